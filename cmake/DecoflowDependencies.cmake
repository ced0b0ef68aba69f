# What decoflow's libraries link: Threads, oneTBB (TBB::tbb), and the
# compression libraries as imported targets with one name each (decoflow::zstd,
# decoflow::lz4, decoflow::xxhash, decoflow::deflate, decoflow::lzma). oneTBB
# ships a CMake config on Debian; the compression libraries ship pkg-config
# files or nothing, so they are found by hand.
#
# Used twice: by decoflow's own build, and by the installed decoflowConfig.cmake
# (installed beside it) so that a consumer's find_package(decoflow) finds the
# same libraries. Nothing here stops on the first missing library: every one
# that is missing is described in DECOFLOW_MISSING_DEPENDENCIES (what it is,
# the package that has it on Debian/Ubuntu, Fedora, Homebrew and conda), and
# DECOFLOW_MISSING_DEBIAN_PACKAGES lists the Debian packages to install. The
# caller decides: the build stops with decoflow_missing_dependencies_message(),
# find_package(decoflow) reports it as its not-found message.

include_guard(GLOBAL)

set(DECOFLOW_MISSING_DEPENDENCIES "")
set(DECOFLOW_MISSING_DEBIAN_PACKAGES "")

# decoflow_note_missing(WHAT DEBIAN FEDORA BREW): remembers one missing library.
macro(decoflow_note_missing what debian fedora brew)
  string(APPEND DECOFLOW_MISSING_DEPENDENCIES
         "  - ${what}: Debian/Ubuntu ${debian}, Fedora/RHEL ${fedora}, Homebrew/conda ${brew}\n")
  list(APPEND DECOFLOW_MISSING_DEBIAN_PACKAGES ${debian})
endmacro()

find_package(Threads QUIET)
if(NOT Threads_FOUND)
  decoflow_note_missing("POSIX threads (pthread)" libc6-dev glibc-devel "(part of the system)")
endif()

# Quiet: when absent, the message below says what to install instead of
# CMake's "Could not find a package configuration file provided by TBB".
find_package(TBB QUIET COMPONENTS tbb)
if(NOT TBB_FOUND)
  decoflow_note_missing("oneTBB (TBBConfig.cmake, libtbb)" libtbb-dev tbb-devel tbb)
endif()

# Static linking of the codecs (DECOFLOW_STATIC_CODECS=ON) makes binaries that
# run on machines without the -dev packages (the benchmark device).
# (The installed config sets it as the build had it.)
if(NOT DEFINED DECOFLOW_STATIC_CODECS)
  option(DECOFLOW_STATIC_CODECS "Link zstd, lz4, xxhash, libdeflate, lzma statically" OFF)
endif()

# decoflow_find_codec_library(TARGET HEADER LIBNAME WHAT DEBIAN FEDORA BREW)
# makes decoflow::TARGET from HEADER and libLIBNAME, or notes it as missing.
function(decoflow_find_codec_library target header libname what debian fedora brew)
  if(TARGET decoflow::${target})
    return()
  endif()
  find_path(${target}_INCLUDE_DIR ${header})
  if(DECOFLOW_STATIC_CODECS)
    find_library(${target}_LIBRARY NAMES lib${libname}.a ${libname})
  else()
    find_library(${target}_LIBRARY NAMES ${libname})
  endif()
  if(NOT ${target}_INCLUDE_DIR OR NOT ${target}_LIBRARY)
    if(NOT ${target}_INCLUDE_DIR)
      set(found "header ${header} not found")
    else()
      set(found "library lib${libname} not found")
    endif()
    decoflow_note_missing("${what} (${found})" ${debian} ${fedora} ${brew})
    set(DECOFLOW_MISSING_DEPENDENCIES "${DECOFLOW_MISSING_DEPENDENCIES}" PARENT_SCOPE)
    set(DECOFLOW_MISSING_DEBIAN_PACKAGES "${DECOFLOW_MISSING_DEBIAN_PACKAGES}" PARENT_SCOPE)
    return()
  endif()
  add_library(decoflow::${target} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(decoflow::${target} PROPERTIES
    IMPORTED_LOCATION "${${target}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE_DIR}")
endfunction()

decoflow_find_codec_library(zstd zstd.h zstd "zstd" libzstd-dev libzstd-devel zstd)
decoflow_find_codec_library(lz4 lz4frame.h lz4 "lz4" liblz4-dev lz4-devel lz4)
decoflow_find_codec_library(xxhash xxhash.h xxhash "xxHash" libxxhash-dev xxhash-devel xxhash)
decoflow_find_codec_library(deflate libdeflate.h deflate "libdeflate" libdeflate-dev
                            libdeflate-devel libdeflate)
decoflow_find_codec_library(lzma lzma.h lzma "liblzma (xz)" liblzma-dev xz-devel xz)

# decoflow_missing_dependencies_message(OUT): the text that says what to install.
function(decoflow_missing_dependencies_message out)
  list(JOIN DECOFLOW_MISSING_DEBIAN_PACKAGES " " debian)
  string(CONCAT text
      "decoflow needs these libraries with their headers, and did not find them:\n"
      "${DECOFLOW_MISSING_DEPENDENCIES}"
      "On Debian/Ubuntu: apt-get install ${debian}\n"
      "(scripts/setup.sh in decoflow's source tree installs every prerequisite on Debian.) "
      "Installed somewhere CMake does not look? Add that prefix to CMAKE_PREFIX_PATH.")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()
