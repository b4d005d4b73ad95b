"""Traveling-wave experiments: EMT variable binding (`emt`), wRNN vs iRNN copy (`wave_copy`) and adding
(`wave_adding`), task streams shared with the other experiments, and the recurrent-kernel benchmark."""
