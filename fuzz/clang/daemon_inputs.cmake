# The libFuzzer targets for the daemon's untrusted inputs besides ATF files
# (docs/fuzzing.md), included by CMakeLists.txt beside this file, whose
# variables (preroll_source_dir, sanitizers) it uses:
#   shm_segment_fuzzer      a client's shared-memory segment: the validation
#                           helpers and ClientSegment draining a segment image
#   wire_parse_fuzzer       the registration socket's messages (shm::wire::parse)
#   control_request_fuzzer  the control socket's request lines
#
# Each compiles its own instrumented copy of the sources it tests (shm
# protocol, the daemon's segment reader, marking and selection, the control
# protocol); the system's Boost (headers), PCRE2, spdlog, fmt and
# nlohmann_json are used as they are. The matcher is built on PCRE2 alone
# here: Hyperscan is a faster path to the same marks, not segment handling.
find_package(Boost 1.74 REQUIRED)
find_package(spdlog REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)

set(instrumented ${sanitizers} -fsanitize=fuzzer-no-link)

file(GLOB shm_sources CONFIGURE_DEPENDS ${preroll_source_dir}/shm_protocol/src/*.cpp)
add_library(shm_instrumented OBJECT ${shm_sources})
target_include_directories(shm_instrumented PUBLIC ${preroll_source_dir}/shm_protocol/include)
target_compile_options(shm_instrumented PRIVATE ${instrumented})
target_link_libraries(shm_instrumented PUBLIC Boost::headers)

add_library(segment_reader_instrumented OBJECT
  ${preroll_source_dir}/daemon/client_segment.cpp
  ${preroll_source_dir}/daemon/marking_policy.cpp
  ${preroll_source_dir}/daemon/window_selector.cpp
  ${preroll_source_dir}/daemon/count_conditions.cpp
  ${preroll_source_dir}/daemon/tsc_clock.cpp
  ${preroll_source_dir}/daemon/matching/pattern_matcher.cpp
  ${preroll_source_dir}/daemon/matching/pcre2_pattern.cpp
  ${preroll_source_dir}/daemon/matching/pattern_syntax.cpp
  ${preroll_source_dir}/daemon/matching/pcre2_engine.cpp)
target_include_directories(segment_reader_instrumented PUBLIC
  ${preroll_source_dir}/daemon ${preroll_source_dir}/daemon/matching)
target_compile_options(segment_reader_instrumented PRIVATE ${instrumented})
target_link_libraries(segment_reader_instrumented PUBLIC
  shm_instrumented atf_instrumented spdlog::spdlog PkgConfig::PCRE2 nlohmann_json::nlohmann_json)

function(preroll_fuzzer name)
  add_executable(${name} ${preroll_source_dir}/fuzz/${name}.cpp)
  target_compile_options(${name} PRIVATE ${sanitizers} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE ${sanitizers} -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARGN})
endfunction()

preroll_fuzzer(shm_segment_fuzzer segment_reader_instrumented shm_instrumented atf_instrumented)
preroll_fuzzer(wire_parse_fuzzer shm_instrumented)

add_library(control_protocol_instrumented OBJECT ${preroll_source_dir}/daemon/control/control_protocol.cpp)
target_include_directories(control_protocol_instrumented PUBLIC ${preroll_source_dir}/daemon)
target_compile_options(control_protocol_instrumented PRIVATE ${instrumented})
target_link_libraries(control_protocol_instrumented PUBLIC nlohmann_json::nlohmann_json)
preroll_fuzzer(control_request_fuzzer control_protocol_instrumented)
