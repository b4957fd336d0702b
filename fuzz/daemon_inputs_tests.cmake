# CTest runs of the daemon-input fuzzers (clang/daemon_inputs.cmake),
# included by CMakeLists.txt beside this file after the ATF reader's, in the
# same two forms (label fuzz):
#   "fuzz: <target> corpus"     every checked-in seed once
#   "fuzz: <target> (bounded)"  PREROLL_FUZZ_INPUT_SECONDS of fuzzing from the seeds
# Short by default: three targets share CI's 2 cores and 30-minute test budget
# with everything else; docs/fuzzing.md shows how to run them longer.
set(PREROLL_FUZZ_INPUT_SECONDS 20 CACHE STRING
  "Seconds each CTest run of the shm segment, wire message and control request fuzzers fuzzes")
math(EXPR fuzz_input_timeout "${PREROLL_FUZZ_INPUT_SECONDS} + 240")
foreach(pair "shm_segment|shm segment" "wire_parse|wire messages" "control_request|control requests")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 target)
  list(GET pair 1 label)
  if(target STREQUAL "shm_segment")
    set(dict shm_segment.dict)
  elseif(target STREQUAL "wire_parse")
    set(dict wire.dict)
  else()
    set(dict control.dict)
  endif()
  set(run
    ${CMAKE_COMMAND}
    -DFUZZER=${fuzz_bin}/${target}_fuzzer
    -DCORPUS=${CMAKE_CURRENT_SOURCE_DIR}/corpus/${target}
    -DDICT=${CMAKE_CURRENT_SOURCE_DIR}/${dict})
  add_test(NAME "fuzz: ${label} corpus"
    COMMAND ${run} -DMODE=replay -P ${CMAKE_CURRENT_SOURCE_DIR}/run_fuzzer.cmake)
  add_test(NAME "fuzz: ${label} (bounded)"
    COMMAND ${run} -DMODE=fuzz -DSECONDS=${PREROLL_FUZZ_INPUT_SECONDS}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/${target}_run -P ${CMAKE_CURRENT_SOURCE_DIR}/run_fuzzer.cmake)
  set_tests_properties("fuzz: ${label} corpus" PROPERTIES TIMEOUT 120 LABELS fuzz)
  set_tests_properties("fuzz: ${label} (bounded)" PROPERTIES TIMEOUT ${fuzz_input_timeout} LABELS fuzz)
endforeach()
