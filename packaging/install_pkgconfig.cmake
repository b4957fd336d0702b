# Runs at install time (install(CODE) in CMakeLists.txt): writes preroll.pc
# for CMAKE_INSTALL_PREFIX as it is now (/usr under cpack's DESTDIR, or what
# --prefix gave), and records it in the install manifest like any other file.
# In: PREROLL_PC_IN, PREROLL_VERSION, PREROLL_LIBDIR, PREROLL_INCLUDEDIR.
set(PREROLL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${PREROLL_${dir}}")
    set(PREROLL_PC_${dir} "${PREROLL_${dir}}")
  else()
    set(PREROLL_PC_${dir} "\${prefix}/${PREROLL_${dir}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${PREROLL_LIBDIR}")
  set(pc_file "$ENV{DESTDIR}${PREROLL_LIBDIR}/pkgconfig/preroll.pc")
else()
  set(pc_file "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${PREROLL_LIBDIR}/pkgconfig/preroll.pc")
endif()
message(STATUS "Installing: ${pc_file}")
configure_file("${PREROLL_PC_IN}" "${pc_file}" @ONLY)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${pc_file}")
