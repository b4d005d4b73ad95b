"""Continuous online sequence prediction (Cui, Ahmad & Hawkins 2016) and its contenders."""
