#pragma once
// Shared by the examples: write columns as CSV, and draw them with gnuplot when it is installed
// (Debian gnuplot-nox; `make demo` installs it). No image code of our own.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace example {

inline void write_csv(const std::string& file, const std::vector<std::string>& header,
                      const std::vector<std::vector<double>>& columns) {
  std::ofstream out(file);
  for (std::size_t j = 0; j < header.size(); ++j) out << (j ? "," : "") << header[j];
  out << "\n";
  out.precision(10);
  for (std::size_t i = 0; i < columns[0].size(); ++i) {
    for (std::size_t j = 0; j < columns.size(); ++j) out << (j ? "," : "") << columns[j][i];
    out << "\n";
  }
}

inline bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

/// Run a gnuplot script (written to `script_file`); returns false (and says so) when gnuplot is missing.
inline bool gnuplot(const std::string& script_file, const std::string& script) {
  if (!have_gnuplot()) {
    std::printf("(gnuplot not installed: skipping %s; the CSV has the numbers)\n", script_file.c_str());
    return false;
  }
  std::ofstream(script_file) << script;
  return std::system(("gnuplot " + script_file).c_str()) == 0;
}

}  // namespace example
