"""The optional C build of the model's innermost loop (hnsim/model/_draws.pyx); everything else is
in pyproject.toml. Without a C compiler, or without Cython, hnsim installs and runs the same
model in pure Python, to the last bit (tests/test_compiled_draws.py)."""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: the pure Python reference runs
    ext_modules = []
else:
    ext_modules = cythonize([Extension("hnsim.model._draws", ["hnsim/model/_draws.pyx"])], quiet=True)
    for extension in ext_modules:
        extension.optional = True  # a failed compile is a warning (cythonize does not carry the flag over)

setup(ext_modules=ext_modules)
