"""Reproduction recipes (``import zoo.pipelines``): prepare → features → train → evaluate → export → report.

One recipe per model arrives with that model; this package holds none yet.
"""
