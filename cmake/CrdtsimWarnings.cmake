# crdtsim_options: the compile options every project target links.
add_library(crdtsim_options INTERFACE)

target_compile_options(crdtsim_options INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow -Wconversion -Wsign-conversion
  -Wold-style-cast -Wnon-virtual-dtor -Woverloaded-virtual
  -Wcast-align -Wformat=2 -Wimplicit-fallthrough -Wdouble-promotion
  -Wmissing-declarations -Wundef)

# g++ 12 at -O3 reports -Wrestrict inside libstdc++ for `"literal" + std::string`
# (GCC bug 105329, fixed in 13): a false positive in the library, not our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(crdtsim_options INTERFACE -Wno-restrict)
endif()

if(CRDTSIM_WERROR)
  target_compile_options(crdtsim_options INTERFACE -Werror)
endif()

if(CRDTSIM_SANITIZE)
  target_compile_options(crdtsim_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(crdtsim_options INTERFACE -fsanitize=address,undefined)
endif()
