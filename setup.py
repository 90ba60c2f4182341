"""Build the Cython extensions.

Every ``*.pyx`` under ``src/nanobook/`` becomes an extension module of the same
dotted name.  One set of compiler directives applies to all of them; set
``NANOBOOK_DEBUG=1`` for a checked build (bounds checks, wraparound checks,
initialisation checks, no optimisation, assertions on).
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

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
    root = Path(__file__).parent
    exts = []
    for pyx in sorted(root.glob("src/nanobook/**/*.pyx")):
        rel = pyx.relative_to(root)
        name = ".".join(rel.relative_to("src").with_suffix("").parts)
        exts.append(
            Extension(
                name,
                [str(rel)],
                include_dirs=[np.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=CFLAGS,
            )
        )
    return cythonize(
        exts,
        compiler_directives=DIRECTIVES,
        compile_time_env={"NANOBOOK_DEBUG": DEBUG},
        nthreads=os.cpu_count() or 1,
    )


# Compile the extensions side by side (one per core).
setup(ext_modules=extensions(), options={"build_ext": {"parallel": os.cpu_count() or 1}})
