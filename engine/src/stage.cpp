#include "decoflow/stage.hpp"

#include <utility>

#include "decoflow/error.hpp"

namespace decoflow {

namespace {

class FunctionBody final : public StageBody {
 public:
  explicit FunctionBody(std::function<void(const ChunkView&)> fn) : fn_(std::move(fn)) {}
  void run(const ChunkView& view) override { fn_(view); }

 private:
  std::function<void(const ChunkView&)> fn_;
};

}  // namespace

Stage::Stage(Kind kind, std::string name, unsigned width, std::shared_ptr<StageBody> body)
    : kind_(kind), name_(std::move(name)), width_(width), body_(std::move(body)) {}

Stage Stage::decode(std::string name) { return Stage(Kind::decode, std::move(name), 0, nullptr); }

Stage Stage::byteswap(unsigned width, std::string name) {
  if (width != 2 && width != 4 && width != 8) {
    throw Error(ErrorCode::invalid_argument,
                "byteswap width must be 2, 4 or 8, not " + std::to_string(width));
  }
  if (name.empty()) name = "byteswap" + std::to_string(width);
  return Stage(Kind::byteswap, std::move(name), width, nullptr);
}

Stage Stage::native(std::string name, std::function<void(const ChunkView&)> fn) {
  if (!fn) throw Error(ErrorCode::invalid_argument, "native stage '" + name + "' has no function");
  return Stage(Kind::custom, std::move(name), 0, std::make_shared<FunctionBody>(std::move(fn)));
}

Stage Stage::ordered(std::string name, std::function<void(const ChunkView&)> fn) {
  if (!fn) throw Error(ErrorCode::invalid_argument, "ordered stage '" + name + "' has no function");
  return Stage(Kind::ordered, std::move(name), 0, std::make_shared<FunctionBody>(std::move(fn)));
}

Stage Stage::custom(std::string name, std::shared_ptr<StageBody> body) {
  if (!body) throw Error(ErrorCode::invalid_argument, "custom stage '" + name + "' has no body");
  return Stage(Kind::custom, std::move(name), 0, std::move(body));
}

}  // namespace decoflow
