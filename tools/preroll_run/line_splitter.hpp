// Splits one output stream into lines for capture.
//
// Bytes go in as they were read, in pieces of any size; out come the lines
// without their '\n' (and without one '\r' before it), each as one piece, or
// as consecutive pieces of at most `max_piece` bytes when the line is longer.
// A line is never held in memory beyond `max_piece` bytes: a piece is handed
// out as soon as it is full and at least one more byte of the same line has
// arrived (so a '\r' at the end of a full piece is still known to be a CRLF
// or not). A partial last line is handed out by finish(). Bytes are bytes:
// NULs and invalid UTF-8 pass as they are.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace preroll::run {

struct Piece {
  std::string_view bytes;
  bool continues_line;  // a later piece of the line the previous piece started
};

class LineSplitter {
 public:
  // max_piece >= 1.
  explicit LineSplitter(std::size_t max_piece);

  // Calls sink(Piece) for every piece completed by `data`.
  template <class Sink>
  void feed(std::string_view data, Sink&& sink);

  // End of the stream: hands out a partial last line, if any.
  template <class Sink>
  void finish(Sink&& sink);

  [[nodiscard]] std::size_t max_piece() const noexcept { return max_; }
  // Bytes of the current line held back (at most max_piece()).
  [[nodiscard]] std::size_t pending() const noexcept { return held_.size(); }

 private:
  template <class Sink>
  void absorb(std::string_view part, Sink& sink);
  template <class Sink>
  void hand_out(std::string_view bytes, Sink& sink);

  std::size_t max_;
  std::string held_;         // the current line's bytes not handed out yet
  bool line_started_ = false;  // a piece of the current line was handed out
};

template <class Sink>
void LineSplitter::hand_out(std::string_view bytes, Sink& sink) {
  sink(Piece{bytes, line_started_});
  line_started_ = true;
}

// Adds `part` (no '\n' in it) to the current line, handing out full pieces
// while more than max_ bytes of the line are unhanded.
template <class Sink>
void LineSplitter::absorb(std::string_view part, Sink& sink) {
  while (held_.size() + part.size() > max_) {
    const std::size_t take = max_ - held_.size();
    if (held_.empty()) {
      hand_out(part.substr(0, take), sink);  // straight from the input
    } else {
      held_.append(part.data(), take);
      hand_out(held_, sink);
      held_.clear();
    }
    part.remove_prefix(take);
  }
  held_.append(part.data(), part.size());
}

template <class Sink>
void LineSplitter::feed(std::string_view data, Sink&& sink) {
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      absorb(data, sink);
      return;
    }
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl + 1);
    // One '\r' before the '\n' is part of the line ending.
    if (!line.empty()) {
      if (line.back() == '\r') line.remove_suffix(1);
    } else if (!held_.empty() && held_.back() == '\r') {
      held_.pop_back();
    }
    if (held_.empty() && line.size() <= max_) {
      // The common case: a whole line in the input, handed out in place.
      if (!line.empty() || !line_started_) hand_out(line, sink);
    } else {
      absorb(line, sink);
      if (!held_.empty() || !line_started_) hand_out(held_, sink);
      held_.clear();
    }
    line_started_ = false;
  }
}

template <class Sink>
void LineSplitter::finish(Sink&& sink) {
  if (!held_.empty()) hand_out(held_, sink);
  held_.clear();
  line_started_ = false;
}

}  // namespace preroll::run
