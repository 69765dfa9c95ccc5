# The service modules: clock, storage, marker, queuer, job state, http, log, stats (target
# vpcflow_modules).
# Included from src/modules/CMakeLists.txt; paths are relative to this folder.
find_package(CURL REQUIRED)

add_library(vpcflow_modules STATIC
  ${CMAKE_CURRENT_LIST_DIR}/posix_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/text_format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/clock/system_clock.cpp
  ${CMAKE_CURRENT_LIST_DIR}/storage/file_storage.cpp
  ${CMAKE_CURRENT_LIST_DIR}/marker/mark_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/marker/file_marker.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queuer/job_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queuer/worker_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queuer/in_process_queuer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queuer/http_queuer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queuer/nats_queuer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jobstate/memory_job_state_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http/curl_http_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log/json_logger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stats/prometheus_registry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stats/dogstatsd.cpp
)
target_link_libraries(vpcflow_modules
  PUBLIC vpcflow_common vpcflow_nats Threads::Threads
  PRIVATE CURL::libcurl Boost::json)

if(VPCFLOW_BUILD_TESTS)
  vpcflow_add_test(modules_test
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/text_format_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/clock/system_clock_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/storage/file_storage_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/marker/mark_record_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/marker/file_marker_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/queuer/job_json_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/queuer/in_process_queuer_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/queuer/worker_pool_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/queuer/http_queuer_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/jobstate/memory_job_state_store_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/http/curl_http_client_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/log/json_logger_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/stats/dogstatsd_test.cpp
    LIBS vpcflow_modules Boost::json
    LABELS unit)
  # The NATS queue against the real nats-server of the "nats" fixture (cmake/nats.cmake).
  vpcflow_add_nats_test(nats_queuer_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/queuer/nats_queuer_test.cpp
    LIBS vpcflow_modules)
endif()
