// data/text: the character vocabulary, the corpus reader (a file, or a directory of fortune
// files), the position split and the (context, next-token) examples, on small scratch corpora.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <type_traits>

#include "core/serialize.hpp"
#include "data/loader.hpp"
#include "data/text.hpp"
#include "ops/shape.hpp"
#include "tests/data_testing.hpp"
#include "train/checkpoint.hpp"

using namespace xg;
using xg::testing::error_of;
using xg::testing::ScratchDir;

namespace {

std::vector<std::int64_t> ints(const Tensor& t) {
    std::vector<std::int64_t> v;
    for (double d : t.to_vector()) v.push_back(std::int64_t(d));
    return v;
}

std::string write(const ScratchDir& dir, const std::string& name, const std::string& text) {
    return dir.write(name, text.data(), text.size());
}

}  // namespace

TEST_CASE("text: CharVocab is the sorted distinct characters; encode and decode round-trip") {
    auto v = data::CharVocab::from_text("hello world\n");
    CHECK(v.chars() == "\n dehlorw");
    CHECK(v.size() == 9);
    CHECK(v.id('\n') == 0);
    CHECK(v.id('w') == 8);
    CHECK(v.at(1) == ' ');
    auto ids = v.encode("low\n");
    CHECK(ids == std::vector<std::int64_t>{5, 6, 8, 0});
    CHECK(v.decode(ids) == "low\n");
    Tensor t = v.encode_tensor("hold");
    CHECK(t.dtype() == int64);
    CHECK(t.shape() == Shape{4});
    CHECK(v.decode(t) == "hold");
    // Bytes above 127 (UTF-8) are characters too.
    auto u = data::CharVocab::from_text("caf\xc3\xa9");
    CHECK(u.size() == 5);
    CHECK(u.decode(u.encode("\xc3\xa9"
                            "a")) ==
          "\xc3\xa9"
          "a");
}

TEST_CASE("text: CharVocab errors name the character, the id and the size") {
    auto v = data::CharVocab::from_text("abc");
    std::string e = error_of([&] { v.id('z'); });
    CHECK(e.find("'z'") != std::string::npos);
    CHECK(e.find("3 characters") != std::string::npos);
    e = error_of([&] { v.encode("a\x07"); });
    CHECK(e.find("byte 7") != std::string::npos);
    e = error_of([&] { v.at(3); });
    CHECK(e.find("id 3") != std::string::npos);
    CHECK(!error_of([&] { v.at(-1); }).empty());
    CHECK(error_of([&] { data::CharVocab("ba"); }).find("sorted") != std::string::npos);
    CHECK(!error_of([&] { data::CharVocab("aa"); }).empty());
    CHECK(!error_of([&] { v.decode(Tensor(xg::array<float>({0.f}))); }).empty());
}

TEST_CASE("text: CharVocab serializes to metadata text and back, through a checkpoint") {
    auto v = data::CharVocab::from_text(std::string("\n\t \"\\{}x\xff", 9));
    const std::string s = v.serialize();
    CHECK(s == "9,10,32,34,92,120,123,125,255");
    CHECK(data::CharVocab::parse(s) == v);
    CHECK(error_of([] { data::CharVocab::parse("10,300"); }).find("300") != std::string::npos);
    CHECK(!error_of([] { data::CharVocab::parse("10,,32"); }).empty());
    CHECK(!error_of([] { data::CharVocab::parse(""); }).empty());
    CHECK(!error_of([] { data::CharVocab::parse("32,10"); }).empty());  // not sorted

    // In a checkpoint's metadata (the info map), as train_lm stores it.
    ScratchDir dir;
    train::Checkpoint ck;
    train::TrainingProgress p;
    p.info["vocab"] = s;
    ck.save(dir.file("ck.safetensors"), p);
    auto meta = read_safetensors_header(dir.file("ck.safetensors")).metadata;
    CHECK(data::CharVocab::parse(meta.at("info.vocab")) == v);
}

TEST_CASE("text: examples are windows of the tokens; batches stack them") {
    auto f = data::TextFile::from_text("abcdefghij", 0.2);  // 8 train, 2 validation tokens
    CHECK(f.split() == 8);
    auto train = f.train(3);
    CHECK(train.size() == 5);  // windows of 4 tokens in 8
    auto e = train.example(0);
    CHECK(e.context.dtype() == int64);
    CHECK(ints(e.context) == std::vector<std::int64_t>{0, 1, 2});
    CHECK(ints(e.target) == std::vector<std::int64_t>{1, 2, 3});
    auto last = train.example(4);
    CHECK(ints(last.target) == std::vector<std::int64_t>{5, 6, 7});  // never a validation token
    CHECK(error_of([&] { train.example(5); }).find("index 5") != std::string::npos);

    auto b = train.get_batch({4, 0, 2});
    CHECK(b.size() == 3);
    CHECK(b.context.shape() == Shape{3, 3});
    Tensor stacked =
        stack({train.example(4).context, train.example(0).context, train.example(2).context});
    CHECK(ints(b.context) == ints(stacked));
    Tensor stacked_y =
        stack({train.example(4).target, train.example(0).target, train.example(2).target});
    CHECK(ints(b.target) == ints(stacked_y));

    auto val = f.validation(1);
    CHECK(val.size() == 1);
    CHECK(ints(val.example(0).context) == std::vector<std::int64_t>{8});
    CHECK(ints(val.example(0).target) == std::vector<std::int64_t>{9});
}

TEST_CASE("text: a TextDataset is a libtorch-style Dataset; the DataLoader stacks TextBatch") {
    auto f = data::TextFile::from_text("abcdefghijklmnopqrstuvwxyz", 0.1);
    data::TextDataset train = f.train(4);
    REQUIRE(train.size().has_value());
    CHECK(*train.size() == train.windows());
    data::DataLoader loader(train, data::DataLoaderOptions(5).shuffle(false));
    std::size_t seen = 0;
    for (auto& b : loader) {
        static_assert(std::is_same_v<std::decay_t<decltype(b)>, data::TextBatch>);
        CHECK(b.context.shape()[1] == 4);
        for (std::size_t r = 0; r < b.size(); ++r, ++seen)
            CHECK(ints(slice(b.context, 0, std::int64_t(r), std::int64_t(r) + 1).reshape({-1})) ==
                  ints(train.example(seen).context));
    }
    CHECK(seen == train.windows());
}

TEST_CASE("text: malformed input is an xg::Error naming the problem") {
    auto f = data::TextFile::from_text("abcdefghij", 0.2);
    CHECK(error_of([&] { f.train(8); }).find("context of 8") != std::string::npos);
    CHECK(!error_of([&] { f.train(0); }).empty());
    CHECK(error_of([&] { f.validation(2); }).find("validation") != std::string::npos);
    CHECK(error_of([] { data::TextFile::from_text(""); }).find("empty") != std::string::npos);
    CHECK(!error_of([] { data::TextFile::from_text("abc", 1.0); }).empty());

    ScratchDir dir;
    const std::string empty = write(dir, "empty.txt", "");
    CHECK(error_of([&] { data::TextFile t(empty); }).find("empty") != std::string::npos);
    std::string e = error_of([&] { data::TextFile t(dir.file("missing")); });
    CHECK(e.find("missing") != std::string::npos);
    CHECK(e.find("apt-get install fortunes") != std::string::npos);
    std::filesystem::create_directories(dir.file("nothing"));
    CHECK(error_of([&] { data::TextFile t(dir.file("nothing")); }).find("no text files") !=
          std::string::npos);
}

TEST_CASE("text: a directory of fortune files: index files and symlinks skipped, % to blank") {
    ScratchDir dir;
    const std::string root = dir.file("fortunes");
    std::filesystem::create_directories(root);
    ScratchDir* d = &dir;
    write(*d, "fortunes/b", "second\n%\nthird\n%\n");
    write(*d, "fortunes/a", "first\n%\n");
    write(*d, "fortunes/a.dat", std::string("\x00\x01zz", 4));
    std::filesystem::create_symlink("a", dir.file("fortunes/a.u8"));
    std::filesystem::create_symlink("b", dir.file("fortunes/copy"));
    write(*d, "fortunes/.hidden", "hidden\n");
    std::filesystem::create_directories(dir.file("fortunes/off"));
    write(*d, "fortunes/off/x", "offensive\n");
    CHECK(data::read_text_corpus(root) == "first\n\nsecond\n\nthird\n\n");
    data::TextFile f(root, 0.25);
    CHECK(f.text() == "first\n\nsecond\n\nthird\n\n");
    CHECK(f.vocab().chars() == "\ncdefhinorst");
    CHECK(f.tokens().size() == 22);
    CHECK(f.split() == 22 - 5);  // floor(22 * 0.25) validation tokens
    // A single file reads the same way; a "%" inside a line stays.
    const std::string one = write(dir, "one.txt", "100% sure\n%\nyes");
    CHECK(data::read_text_corpus(one) == "100% sure\n\nyes");
}
