# Tests against a real NATS server with JetStream (scripts/nats.sh, ../shared/docs/SCALE.md).
# Include this file from the top-level CMakeLists.txt (it needs include(GoogleTest) first);
# including it more than once is harmless.
#
# The CTest fixture "nats": nats_start starts one nats-server for the whole ctest run in
# ${CMAKE_BINARY_DIR}/nats (a free port is picked at start) and nats_stop stops it, also after
# failures. A test that needs it requires the fixture, carries the label "nats" and finds the
# server's URL in the file named by $VPCFLOW_NATS_ENV (src/testing/nats_env.hpp: LoadNatsUrl()).
# Tests share the server: each uses its own stream, consumer and bucket names. A test that stops
# or restarts a server runs its own in VPCFLOW_NATS_OWN_DIR (fixture "nats_own", whose cleanup
# stops it even after a crash). `ctest -L nats` runs only them; `ctest -LE nats` skips them.
include_guard(GLOBAL)

set(VPCFLOW_NATS_DIR ${CMAKE_BINARY_DIR}/nats)
set(VPCFLOW_NATS_OWN_DIR ${CMAKE_BINARY_DIR}/nats-own)
set(VPCFLOW_NATS_SCRIPT ${PROJECT_SOURCE_DIR}/scripts/nats.sh)

add_test(NAME nats_start COMMAND ${VPCFLOW_NATS_SCRIPT} start ${VPCFLOW_NATS_DIR})
set_tests_properties(nats_start PROPERTIES FIXTURES_SETUP nats LABELS nats TIMEOUT 60)
add_test(NAME nats_stop COMMAND ${VPCFLOW_NATS_SCRIPT} stop ${VPCFLOW_NATS_DIR})
set_tests_properties(nats_stop PROPERTIES FIXTURES_CLEANUP nats LABELS nats TIMEOUT 60)
add_test(NAME nats_own_stop COMMAND ${VPCFLOW_NATS_SCRIPT} stop ${VPCFLOW_NATS_OWN_DIR})
set_tests_properties(nats_own_stop PROPERTIES FIXTURES_CLEANUP nats_own LABELS nats TIMEOUT 60)

# vpcflow_add_nats_test(NAME SOURCES ... LIBS ... [LABELS ...] [OWN] [RGW]): a GoogleTest binary
# whose tests all need a NATS server: they require the fixture "nats" and get the label "nats"
# plus LABELS. OWN: its tests also start and stop a server of their own in VPCFLOW_NATS_OWN_DIR
# (fixture "nats_own", one test at a time). RGW: they also need the Ceph RGW of the fixture
# "rgw" (cmake/rgw.cmake; its env file in $VPCFLOW_RGW_ENV) and get the label "rgw".
function(vpcflow_add_nats_test name)
  cmake_parse_arguments(T "OWN;RGW" "" "SOURCES;LIBS;LABELS" ${ARGN})
  set(fixtures nats)
  set(lock "")
  if(T_OWN)
    set(fixtures "nats;nats_own")
    set(lock " RESOURCE_LOCK nats_own")
  endif()
  vpcflow_test_executable(${name} SOURCES ${T_SOURCES} LIBS ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    VPCFLOW_NATS_SCRIPT="${VPCFLOW_NATS_SCRIPT}" VPCFLOW_NATS_OWN_DIR="${VPCFLOW_NATS_OWN_DIR}")
  gtest_discover_tests(${name}
    TEST_LIST ${name}_TESTS
    PROPERTIES
      ENVIRONMENT "VPCFLOW_NATS_ENV=${VPCFLOW_NATS_DIR}/env"
    DISCOVERY_TIMEOUT 60)
  # Lists (labels, fixtures) are set after discovery: gtest_discover_tests cannot pass a list
  # as one property value.
  set(labels nats ${T_LABELS})
  set(rgw "")
  if(T_RGW)
    list(APPEND fixtures rgw)
    list(APPEND labels rgw)
    set(rgw " ENVIRONMENT \"VPCFLOW_NATS_ENV=${VPCFLOW_NATS_DIR}/env;VPCFLOW_RGW_ENV=${VPCFLOW_RGW_DIR}/env\"")
  endif()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${name}_nats_labels.cmake)
  file(WRITE ${script}
    "if(${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\"\n"
    "    FIXTURES_REQUIRED \"${fixtures}\"${lock}${rgw})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()
