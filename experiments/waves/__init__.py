"""Traveling-wave experiments: EMT variable binding (`emt`), wRNN vs iRNN copy (`wave_copy`) and adding
(`wave_adding`), and task streams shared with the other experiments (the recurrent-kernel benchmark is
``experiments.bench.waves_rnn``)."""
