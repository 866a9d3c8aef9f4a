"""Runnable examples; `python -m examples.churn` tells the ML release incident through the SDK."""
