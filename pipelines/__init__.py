"""Reproduction recipes (``import zoo.pipelines``): prepare → features → train → evaluate → export → report.

One recipe per model (``python -m zoo.pipelines.<model>``, ``make reproduce-<model>``), each a list of
stages run by the shared stage runner ``zoo.pipelines.stages.run_stages`` (state.json, resume).
"""
