#pragma once
// Datasets of anything, as libtorch's torch::data: an Example<Data, Target>, the Dataset<Self,
// Example> base a user subclasses with get(i) and size(), map() with transforms::Lambda, and
// transforms::Stack, which collates a batch of examples by stacking their tensors.
//
//   struct Squares : xg::data::Dataset<Squares> {
//       xg::data::Example<> get(std::size_t i) override {
//           return {xg::full({1}, double(i)), xg::full({1}, double(i * i))};
//       }
//       std::optional<std::size_t> size() const override { return 100; }
//   };
//   xg::data::DataLoader loader(Squares(), xg::data::DataLoaderOptions(10));
//   for (auto& b : loader) { /* b.data (10, 1), b.target (10, 1) */ }
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace xg::data {

// One sample (libtorch's torch::data::Example): data and target of any type.
template <class Data = Tensor, class Target = Tensor>
struct Example {
    using DataType = Data;
    using TargetType = Target;
    Example() = default;
    Example(Data data, Target target) : data(std::move(data)), target(std::move(target)) {}
    Data data;
    Target target;
};

template <class Source, class Fn>
class MapDataset;

namespace transforms {
template <class E>
struct Stack;
}

// The base of a user's dataset (libtorch's torch::data::datasets::Dataset<Self, SingleExample>).
// The loader calls get() from its worker and the caller's thread at once: get must not change
// shared state without its own lock. size() may not be nullopt for the loader.
template <class Self, class SingleExample = Example<>>
class Dataset {
  public:
    using SelfType = Self;
    using ExampleType = SingleExample;
    virtual ~Dataset() = default;
    virtual ExampleType get(std::size_t index) = 0;
    virtual std::optional<std::size_t> size() const = 0;

    // A dataset whose get(i) is transform(get(i)) (e.g. a transforms::Lambda).
    template <class Fn>
    MapDataset<Self, Fn> map(Fn transform) & {
        return {static_cast<Self&>(*this), std::move(transform)};
    }
    template <class Fn>
    MapDataset<Self, Fn> map(Fn transform) && {
        return {std::move(static_cast<Self&>(*this)), std::move(transform)};
    }
    // The loader stacks examples by default: map(Stack<>()) (libtorch's idiom) changes nothing.
    template <class E>
    Self map(transforms::Stack<E>) & {
        return static_cast<Self&>(*this);
    }
    template <class E>
    Self map(transforms::Stack<E>) && {
        return std::move(static_cast<Self&>(*this));
    }
};

template <class Source, class Fn>
using mapped_example_t =
    std::decay_t<std::invoke_result_t<const Fn&, typename std::remove_cv_t<Source>::ExampleType>>;

// The examples of `source` passed through `transform` (libtorch's datasets::MapDataset).
template <class Source, class Fn>
class MapDataset : public Dataset<MapDataset<Source, Fn>, mapped_example_t<Source, Fn>> {
  public:
    using ExampleType = mapped_example_t<Source, Fn>;
    MapDataset(Source source, Fn transform)
        : source_(std::move(source)), transform_(std::move(transform)) {}
    ExampleType get(std::size_t index) override { return transform_(source_.get(index)); }
    std::optional<std::size_t> size() const override { return source_.size(); }
    Source& dataset() { return source_; }
    const Fn& transform() const { return transform_; }

  private:
    Source source_;
    Fn transform_;
};

namespace detail {
// Stacks tensors of one shape and dtype into one (N, ...) tensor (data only, no history);
// `field` names them in errors ("data", "target", "tensor 2").
Tensor stack_tensors(const std::vector<Tensor>& rows, const char* field);

template <class T>
inline constexpr bool is_collated_scalar_v =
    std::is_arithmetic_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, signed char> &&
    !std::is_same_v<T, unsigned char>;

// What a batch holds for a field of type T: tensors and numbers become one tensor (N, ...) or
// (N); anything else stays a vector of the examples' values.
template <class T>
using collated_t = std::conditional_t<std::is_same_v<T, Tensor> || is_collated_scalar_v<T>, Tensor,
                                      std::vector<T>>;

template <class T>
collated_t<T> collate_field(std::vector<T>&& values, const char* field) {
    if constexpr (std::is_same_v<T, Tensor>) {
        return stack_tensors(values, field);
    } else if constexpr (is_collated_scalar_v<T>) {
        // int64 for any integer (class labels for cross_entropy), bool for bool, float32 for
        // float, float64 for double.
        using S = std::conditional_t<
            std::is_same_v<T, bool>, bool,
            std::conditional_t<std::is_integral_v<T>, std::int64_t,
                               std::conditional_t<std::is_same_v<T, float>, float, double>>>;
        xg::array<S> out = xg::array<S>::from_shape({values.size()});
        for (std::size_t k = 0; k < values.size(); ++k) out.data()[k] = static_cast<S>(values[k]);
        return Tensor(std::move(out));
    } else {
        return std::move(values);
    }
}
}  // namespace detail

namespace transforms {

// Applies a function to each example (libtorch's transforms::Lambda), through Dataset::map.
template <class Input, class Output = Input>
class Lambda {
  public:
    using InputType = Input;
    using OutputType = Output;
    using FunctionType = std::function<Output(Input)>;
    explicit Lambda(FunctionType function) : function_(std::move(function)) {}
    Output operator()(Input input) const { return function_(std::move(input)); }

  private:
    FunctionType function_;
};

// How the loader turns the examples of a batch into one batch (libtorch's transforms::Stack).
// An example type without a specialization is batched as the vector of its examples
// (libtorch's batch without Stack); specialize Stack<YourExample> to collate it otherwise.
template <class E = Example<>>
struct Stack {
    using BatchType = std::vector<E>;
    BatchType operator()(std::vector<E> examples) const { return examples; }
};

// Example<Data, Target>: each tensor field stacked (N, ...), number fields as a tensor (N).
template <class D, class T>
struct Stack<Example<D, T>> {
    using BatchType = Example<detail::collated_t<D>, detail::collated_t<T>>;
    BatchType operator()(std::vector<Example<D, T>> examples) const {
        std::vector<D> data;
        std::vector<T> target;
        data.reserve(examples.size());
        target.reserve(examples.size());
        for (auto& e : examples) {
            data.push_back(std::move(e.data));
            target.push_back(std::move(e.target));
        }
        return {detail::collate_field(std::move(data), "data"),
                detail::collate_field(std::move(target), "target")};
    }
};

// Rows of a TensorDataset: tensor k of every example stacked into tensor k of the batch.
template <>
struct Stack<std::vector<Tensor>> {
    using BatchType = std::vector<Tensor>;
    BatchType operator()(std::vector<std::vector<Tensor>> examples) const;
};

}  // namespace transforms
}  // namespace xg::data
