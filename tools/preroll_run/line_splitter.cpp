#include "line_splitter.hpp"

namespace preroll::run {

LineSplitter::LineSplitter(std::size_t max_piece) : max_(max_piece == 0 ? 1 : max_piece) { held_.reserve(max_); }

}  // namespace preroll::run
