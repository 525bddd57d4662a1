# Turns a markdown page into a C++ program, so the page's code is compiled and run:
#   cmake -DDOC=docs/libtorch-users.md -DOUT=build/generated/libtorch_users.cpp -P <this file>
# ```cpp blocks go into main() in page order (```cpp global blocks at file scope), and each table
# row "| n | ... | `code` | ... |" whose third cell is one code span becomes "{ code }" in main().
# `\|` in a cell is a literal |. Fails when the page has fewer than MIN_ROWS compiled rows.
cmake_minimum_required(VERSION 3.18)  # policies: empty list items kept, quoted if() args
if(NOT DOC OR NOT OUT)
  message(FATAL_ERROR "extract_doc_code: pass -DDOC=<page.md> -DOUT=<program.cpp>")
endif()
if(NOT MIN_ROWS)
  set(MIN_ROWS 1)
endif()
file(READ "${DOC}" text)
# ; [ ] and \ are special in CMake lists: hide them while the page is a list of lines.
string(REPLACE "\\" "@BS@" text "${text}")
string(REPLACE ";" "@SEMI@" text "${text}")
string(REPLACE "[" "@LB@" text "${text}")
string(REPLACE "]" "@RB@" text "${text}")
string(REPLACE "\n" ";" lines "${text}")
set(global "")
set(body "")
set(mode "")
set(rows 0)
set(line_no 0)
foreach(line IN LISTS lines)
  math(EXPR line_no "${line_no} + 1")
  if(mode STREQUAL "")
    if(line MATCHES "^```cpp global *$")
      set(mode global)
      math(EXPR next "${line_no} + 1")
      string(APPEND global "#line ${next} \"${DOC}\"\n")
    elseif(line MATCHES "^```cpp *$")
      set(mode body)
    elseif(line MATCHES "^\\| *([0-9]+) *\\|")
      set(num "${CMAKE_MATCH_1}")
      string(REPLACE "@BS@|" "@PIPE@" cells "${line}")
      string(REPLACE "|" ";" cells "${cells}")
      list(LENGTH cells n)
      if(n LESS 5)
        message(FATAL_ERROR "${DOC}:${line_no}: row ${num} has fewer than 3 cells")
      endif()
      list(GET cells 3 cell)
      string(STRIP "${cell}" cell)
      if(cell MATCHES "^`([^`]+)`$")
        set(code "${CMAKE_MATCH_1}")
        string(REPLACE "@PIPE@" "|" code "${code}")
        string(APPEND body "    {  // row ${num}\n#line ${line_no} \"${DOC}\"\n        ${code}\n    }\n")
        math(EXPR rows "${rows} + 1")
      endif()
    endif()
  elseif(line MATCHES "^``` *$")
    set(mode "")
  elseif(mode STREQUAL "global")
    string(APPEND global "${line}\n")
  else()
    string(APPEND body "#line ${line_no} \"${DOC}\"\n    ${line}\n")
  endif()
endforeach()
if(rows LESS MIN_ROWS)
  message(FATAL_ERROR "${DOC}: ${rows} compiled rows, expected at least ${MIN_ROWS}")
endif()
set(program "// Generated from ${DOC} by cmake/extract_doc_code.cmake: edit the page, not this file.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include \"xgrad.hpp\"

namespace {
// A fresh directory for the rows that write files, removed when the program ends.
struct ScratchDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 (\"xgrad_doc_\" + std::to_string(::getpid()));
    ScratchDir() { std::filesystem::create_directories(path); }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};
std::string xg_doc_scratch_dir() {
    static ScratchDir dir;
    return dir.path.string();
}
}  // namespace

${global}
int main() {
    try {
${body}
    } catch (const std::exception& e) {
        std::fprintf(stderr, \"${DOC}: %s\\n\", e.what());
        return 1;
    }
    std::printf(\"${DOC}: ${rows} xgrad rows compiled and ran\\n\");
    return 0;
}
")
string(REPLACE "@SEMI@" ";" program "${program}")
string(REPLACE "@LB@" "[" program "${program}")
string(REPLACE "@RB@" "]" program "${program}")
string(REPLACE "@BS@" "\\" program "${program}")
file(WRITE "${OUT}.tmp" "${program}")
# Only a changed program is rebuilt.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
