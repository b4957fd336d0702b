# The Debian package: `cpack -G DEB` in the build directory (or
# `cmake --build build --target package`) writes preroll_<version>_<arch>.deb
# with everything `cmake --install` installs, under /usr. One package holds
# the daemon, the tools, the library and its development files.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME preroll)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "preroll maintainers <maintainers@users.noreply.r-seed-35cac059.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "flight recorder for Linux programs: always capture, selectively persist")
set(CPACK_PACKAGE_DESCRIPTION "\
Instrumented programs write events into per-thread rings in shared memory; \
the daemon prerolld writes to disk only the windows around marked events \
and discards the rest. Contains prerolld and its systemd units, prerollctl, \
preroll-atf, preroll-run, preroll-gen, and the client library libpreroll with its \
headers, CMake package and pkg-config file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # preroll_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
# Architecture: CPack's default, `dpkg --print-architecture`.
# Depends: computed by dpkg-shlibdeps from the binaries' shared libraries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file for libpreroll.so.0 (deb/triggers runs ldconfig: CPack's own
# ldconfig calls are only in the postinst/postrm it writes when we give none).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libfmt-dev")  # for <preroll/fmt.hpp>
configure_file(deb/prerm.in deb/prerm @ONLY)  # names the units installed above
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_SOURCE_DIR}/deb/postinst"
  "${CMAKE_CURRENT_BINARY_DIR}/deb/prerm"
  "${CMAKE_CURRENT_SOURCE_DIR}/deb/postrm"
  "${CMAKE_CURRENT_SOURCE_DIR}/deb/triggers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
