"""Build the Cython extensions.

Every ``*.pyx`` under ``src/nanobook/`` becomes an extension module of the same
dotted name.  One set of compiler directives applies to all of them; set
``NANOBOOK_DEBUG=1`` for a checked build (bounds checks, wraparound checks,
initialisation checks, no optimisation, assertions on).

Cython and numpy are needed only to compile: the sources are cythonized when
``build_ext`` runs, so ``setup.py sdist`` (which ships the ``.pyx``, not
generated C) works without them.
"""
import os
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("NANOBOOK_DEBUG", "") not in ("", "0")

DIRECTIVES = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
    "binding": False,
    "autotestdict": False,
}

if DEBUG:
    CFLAGS = ["-O0", "-g", "-UNDEBUG"]
else:
    CFLAGS = ["-O3", "-DNDEBUG"]


def extensions():
    """One Extension per .pyx (sources still .pyx: cythonized at build time)."""
    root = Path(__file__).parent
    exts = []
    for pyx in sorted(root.glob("src/nanobook/**/*.pyx")):
        rel = pyx.relative_to(root)
        name = ".".join(rel.relative_to("src").with_suffix("").parts)
        exts.append(
            Extension(
                name,
                [str(rel)],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=CFLAGS,
            )
        )
    return exts


class CythonBuildExt(build_ext):
    """Cythonize (with the directives above) and add numpy's headers, then build
    the extensions side by side, one per core."""

    def finalize_options(self):
        import numpy as np
        from Cython.Build import cythonize

        self.distribution.ext_modules = cythonize(
            self.distribution.ext_modules,
            compiler_directives=DIRECTIVES,
            compile_time_env={"NANOBOOK_DEBUG": DEBUG},
            nthreads=os.cpu_count() or 1,
        )
        for ext in self.distribution.ext_modules:
            ext.include_dirs.append(np.get_include())
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1
        super().finalize_options()


setup(ext_modules=extensions(), cmdclass={"build_ext": CythonBuildExt})
