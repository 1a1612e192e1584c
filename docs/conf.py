"""Sphinx configuration of the autograd_gpu documentation (``make docs``).

The API reference and the PyTorch compatibility table are written at build time from the
installed library (docs/_ext/apigen.py, docs/_ext/compat.py), so they always list what the
tree being built has; the benchmark report is bench/REPORT.md with its plots.
"""
import os
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, os.path.join(DOCS, "_ext"))
sys.path.insert(0, ROOT)

import autograd_gpu  # noqa: E402

project = "autograd_gpu"
author = "the autograd_gpu authors"
copyright = "the autograd_gpu authors, MIT license"
release = version = autograd_gpu.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "apigen",
    "compat",
    "benchreport",
    "docstring_check",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path = []

# autodoc: signatures from the code, members in source order, no import of CuPy at build.
autodoc_member_order = "bysource"
autodoc_default_options = {}
autodoc_typehints = "signature"
autodoc_inherit_docstrings = True
autosummary_generate = False          # apigen writes the pages; autosummary makes the tables
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# MathJax is loaded by the reader's browser only on pages with math; nothing is fetched at
# build time.
html_theme = "furo"
html_title = f"autograd_gpu {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}

# Warnings are errors (make docs passes -W --keep-going); these are the ones that say nothing
# about the docs: duplicate labels from autosectionlabel-like headings in the included report.
suppress_warnings = ["myst.header"]
