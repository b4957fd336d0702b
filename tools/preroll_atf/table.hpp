// Text columns aligned to their widest cell, for `preroll-atf windows`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace preroll::atf_tool {

class Table {
 public:
  struct Column {
    std::string title;
    bool right_aligned = false;  // numbers
  };

  explicit Table(std::vector<Column> columns);
  void add_row(std::vector<std::string> cells);  // one cell per column
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace preroll::atf_tool
