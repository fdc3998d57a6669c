"""What trained models are used for: classifier heads (semi-supervised, transfer), code indexes for
retrieval, a codec for compression, and anomaly scores. Each works on any fitted aekit model with an
encoder (and a decoder where it needs one)."""
