"""The autoencoder as one module: encoder, decoder, and the loss terms its training minimises."""

from torch import nn

from ..losses import output_transform, reconstruction_error


class AutoencoderNet(nn.Module):
    """Maps flat rows (N, D) to codes (N, latent) and back, and names its loss terms.

    Parameters
    ----------
    encoder, decoder : nn.Module
        Built by :func:`build_mlp` or :func:`build_conv`; the decoder returns logits.
    loss : {"mse", "bce"}
    output_activation : {"sigmoid", "linear"}
    """

    def __init__(self, encoder, decoder, loss="mse", output_activation="sigmoid"):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.loss = loss
        self.output_activation = output_activation

    def encode(self, x):
        return self.encoder(x)

    def decode(self, code):
        return output_transform(self.decoder(code), self.output_activation)

    def reconstruction_error(self, x):
        """Per-example loss (N,) of reconstructing ``x`` from its own code."""
        return reconstruction_error(self.decoder(self.encoder(x)), x, self.loss, self.output_activation)

    def loss_terms(self, x):
        """Named, batch-averaged loss terms; the training loop sums them."""
        return {"recon": self.reconstruction_error(x).mean()}
