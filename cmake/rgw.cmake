# Tests against a real S3 server: a Ceph RADOS Gateway on 127.0.0.1 (scripts/rgw.sh,
# ../shared/docs/REAL-S3.md). Include this file from any CMakeLists.txt that registers such tests
# (it needs include(GoogleTest) first); including it more than once is harmless.
#
# The CTest fixture "rgw": rgw_start starts one cluster for the whole ctest run in
# ${CMAKE_BINARY_DIR}/rgw (so build dirs never share one; ports are picked free at start) and
# rgw_stop stops it, also after failures. A test that needs it requires the fixture, carries the
# label "rgw" and finds the endpoint and keys in the file named by $VPCFLOW_RGW_ENV
# (src/testing/rgw_env.hpp: LoadRgwEnv()). `ctest -L rgw` runs only them; `ctest -LE rgw` skips
# them and the cluster.
include_guard(GLOBAL)

set(VPCFLOW_RGW_DIR ${CMAKE_BINARY_DIR}/rgw)
set(VPCFLOW_RGW_SCRIPT ${PROJECT_SOURCE_DIR}/scripts/rgw.sh)

add_test(NAME rgw_start COMMAND ${VPCFLOW_RGW_SCRIPT} start ${VPCFLOW_RGW_DIR})
set_tests_properties(rgw_start PROPERTIES FIXTURES_SETUP rgw LABELS rgw TIMEOUT 200)
add_test(NAME rgw_stop COMMAND ${VPCFLOW_RGW_SCRIPT} stop ${VPCFLOW_RGW_DIR})
set_tests_properties(rgw_stop PROPERTIES FIXTURES_CLEANUP rgw LABELS rgw TIMEOUT 60)

# A test that starts and stops a gateway of its own (it stops the gateway mid-run) does so in
# VPCFLOW_RGW_OWN_DIR and requires the fixture "rgw_own": its cleanup stops that gateway even
# when the test crashed before its own TearDown, and the next start there stops a leftover one.
set(VPCFLOW_RGW_OWN_DIR ${CMAKE_BINARY_DIR}/rgw-own)
add_test(NAME rgw_own_stop COMMAND ${VPCFLOW_RGW_SCRIPT} stop ${VPCFLOW_RGW_OWN_DIR})
set_tests_properties(rgw_own_stop PROPERTIES FIXTURES_CLEANUP rgw_own LABELS rgw TIMEOUT 60)

# vpcflow_add_rgw_test(NAME SOURCES ... LIBS ... [LABELS ...] [FIXTURE F]): a GoogleTest binary
# (vpcflow_test_executable, top-level CMakeLists.txt) whose tests all need a gateway: they
# require the fixture F (default "rgw"; "rgw_own" for a test that runs its own gateway in
# VPCFLOW_RGW_OWN_DIR) and get the label "rgw" plus LABELS.
function(vpcflow_add_rgw_test name)
  cmake_parse_arguments(T "" "FIXTURE" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_FIXTURE)
    set(T_FIXTURE rgw)
  endif()
  vpcflow_test_executable(${name} SOURCES ${T_SOURCES} LIBS ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    VPCFLOW_RGW_SCRIPT="${VPCFLOW_RGW_SCRIPT}" VPCFLOW_RGW_OWN_DIR="${VPCFLOW_RGW_OWN_DIR}")
  gtest_discover_tests(${name}
    TEST_LIST ${name}_TESTS
    PROPERTIES
      FIXTURES_REQUIRED ${T_FIXTURE}
      ENVIRONMENT "VPCFLOW_RGW_ENV=${VPCFLOW_RGW_DIR}/env"
    DISCOVERY_TIMEOUT 60)
  # Labels are set after discovery: gtest_discover_tests cannot pass a list (two labels) as one
  # property value. The tests of a gateway of their own share its directory: one at a time.
  set(labels rgw ${T_LABELS})
  set(lock "")
  if(T_FIXTURE STREQUAL "rgw_own")
    set(lock " RESOURCE_LOCK rgw_own")
  endif()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${name}_rgw_labels.cmake)
  file(WRITE ${script}
    "if(${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\"${lock})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()
