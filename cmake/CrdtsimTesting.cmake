include(GoogleTest)

set(CRDTSIM_RAPIDCHECK_SEED 20261121 CACHE STRING "RapidCheck seed used under ctest unless RC_PARAMS is set")

# crdtsim_add_test(NAME <binary> SOURCES <files...> LIBS <targets...> LABELS <labels...>)
#
# Builds one GoogleTest binary and registers each of its test cases with ctest,
# carrying the given labels (unit, property, fast, sim, store, sweep).
function(crdtsim_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} crdtsim_options
    rapidcheck_gtest rapidcheck GTest::gmock GTest::gtest GTest::gtest_main)
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  if(CRDTSIM_SANITIZE)
    # The tests' own translation units (GoogleTest and RapidCheck templates)
    # compile 2.7x faster at -O0 than at the preset's -O1, and their own code
    # is a small part of their run time: the libraries they call keep -O1.
    target_compile_options(${ARG_NAME} PRIVATE -O0)
  endif()
  # Labels are applied by a small include file that runs after discovery:
  # CMake 3.25's gtest_discover_tests drops every label but the first when
  # given a list through PROPERTIES.
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    TEST_LIST ${ARG_NAME}_TESTS)
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_labels.cmake")
  # RapidCheck runs from a fixed seed under ctest, so CI is reproducible (a
  # "must fail" check on a broken lattice cannot pass by bad luck); set
  # RC_PARAMS when running ctest to explore other seeds.
  file(WRITE "${labels_file}"
    "if(${ARG_NAME}_TESTS)\n"
    "  set_tests_properties(\${${ARG_NAME}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\")\n"
    "  if(NOT DEFINED ENV{RC_PARAMS})\n"
    "    set_tests_properties(\${${ARG_NAME}_TESTS} PROPERTIES ENVIRONMENT \"RC_PARAMS=seed=${CRDTSIM_RAPIDCHECK_SEED}\")\n"
    "  endif()\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
endfunction()

# crdtsim_add_tests_by_suffix(DIR <dir> LIBS <targets...> [EXTRA_LABELS <labels...>])
#
# One test binary per *_test.cc file in DIR. The file name picks the labels:
#   *_property_test.cc -> property;fast    *_slow_test.cc -> the extra labels only
#   any other *_test.cc -> unit;fast
# so that helpers adding tests never edit the same CMake file.
function(crdtsim_add_tests_by_suffix)
  cmake_parse_arguments(ARG "" "DIR;PREFIX" "LIBS;EXTRA_LABELS" ${ARGN})
  file(GLOB test_sources CONFIGURE_DEPENDS "${ARG_DIR}/*_test.cc")
  foreach(source IN LISTS test_sources)
    get_filename_component(stem "${source}" NAME_WE)
    if(stem MATCHES "_property_test$")
      set(labels property fast ${ARG_EXTRA_LABELS})
    elseif(stem MATCHES "_slow_test$")
      set(labels ${ARG_EXTRA_LABELS})
    else()
      set(labels unit fast ${ARG_EXTRA_LABELS})
    endif()
    crdtsim_add_test(NAME ${ARG_PREFIX}${stem} SOURCES "${source}"
      LIBS ${ARG_LIBS} LABELS ${labels})
  endforeach()
endfunction()
