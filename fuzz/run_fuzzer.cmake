# Runs a libFuzzer target for CTest (fuzz/CMakeLists.txt). Never writes into
# the checked-in corpus: replay only reads the seeds, and fuzzing writes new
# inputs into WORK_DIR/corpus (libFuzzer adds to its first corpus directory
# only) and findings into WORK_DIR/artifacts.
#
#   cmake -DFUZZER=exe -DCORPUS=dir -DDICT=file -DMODE=replay -P run_fuzzer.cmake
#   cmake -DFUZZER=exe -DCORPUS=dir -DDICT=file -DMODE=fuzz -DSECONDS=60 -DWORK_DIR=dir -P run_fuzzer.cmake
foreach(var FUZZER CORPUS DICT MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "${FUZZER} does not exist: build first (cmake --build)")
endif()

if(MODE STREQUAL "replay")
  file(GLOB seeds LIST_DIRECTORIES false ${CORPUS}/*)
  list(LENGTH seeds count)
  if(count EQUAL 0)
    message(FATAL_ERROR "no seeds in ${CORPUS}")
  endif()
  # Given files, libFuzzer runs each once and mutates nothing.
  execute_process(COMMAND ${FUZZER} ${seeds} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "a seed of ${CORPUS} fails (exit ${result}); see the fuzzer's report above")
  endif()
  message(STATUS "${count} seeds ran clean")
elseif(MODE STREQUAL "fuzz")
  if(NOT DEFINED SECONDS OR NOT DEFINED WORK_DIR)
    message(FATAL_ERROR "run_fuzzer.cmake: MODE=fuzz needs SECONDS and WORK_DIR")
  endif()
  file(REMOVE_RECURSE ${WORK_DIR})
  file(MAKE_DIRECTORY ${WORK_DIR}/corpus ${WORK_DIR}/artifacts)
  # One process, one job; -max_len covers every seed, -rss_limit_mb and
  # -timeout turn a memory blow-up or a hang into a finding too.
  execute_process(
    COMMAND ${FUZZER}
      -max_total_time=${SECONDS} -max_len=65536 -rss_limit_mb=2048 -timeout=30
      -dict=${DICT} -print_final_stats=1 -artifact_prefix=${WORK_DIR}/artifacts/
      ${WORK_DIR}/corpus ${CORPUS}
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    file(GLOB findings ${WORK_DIR}/artifacts/*)
    message(FATAL_ERROR "the fuzzer stopped on a finding (exit ${result}): ${findings}\n"
      "Reproduce: ${FUZZER} <file>. Keep the file (fuzz/crashes-found/), see docs/fuzzing.md.")
  endif()
else()
  message(FATAL_ERROR "run_fuzzer.cmake: MODE must be replay or fuzz, not '${MODE}'")
endif()
