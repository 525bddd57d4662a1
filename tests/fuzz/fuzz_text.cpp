// libFuzzer target for the text data (data/text.cpp): a corpus file of any bytes read as fortune
// text, its vocabulary serialized and parsed back, windows of a fuzzed context length split by
// a fuzzed validation fraction, batches of fuzzed indices, and a vocabulary string parsed as a
// checkpoint's. Every input must give a result or throw xg::Error; anything else is a bug.
#include <cstdint>
#include <string>
#include <vector>

#include "data/text.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::int64_t context = std::int64_t(data[0]) - 8;     // some invalid (< 1)
    const double val_fraction = double(data[1]) / 200.0 - 0.1;  // some outside [0, 1)
    const std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);
    try {  // the vocabulary as a checkpoint stores it, from any text
        xg::data::CharVocab::parse(body);
    } catch (const xg::Error&) {
    }
    try {
        const std::string path = xg::fuzz::write_scratch("text", data + 3, size - 3);
        auto file = xg::data::TextFile::from_text(xg::data::read_text_corpus(path), val_fraction);
        const auto again = xg::data::CharVocab::parse(file.vocab().serialize());
        if (!(again == file.vocab())) __builtin_trap();  // the round trip must hold
        auto set = data[2] & 1 ? file.train(context) : file.validation(context);
        std::vector<std::size_t> idx;
        for (std::size_t k = 3; k < size && idx.size() < 4; k += 7) idx.push_back(data[k]);
        auto batch = set.get_batch(idx);
        file.vocab().decode(batch.context);
    } catch (const xg::Error&) {
    }
    return 0;
}
