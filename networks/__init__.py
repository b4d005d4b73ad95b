"""Models: GSEMM energy networks, traveling-wave RNNs, AUSSM and the spiking mirror."""
