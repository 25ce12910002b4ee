"""The networks, as plain torch modules that output logits (the sigmoid is applied outside, also after ONNX).

* :class:`CardioNet`: the hackathon winner's design, one logit for the centre beat of a window of beats.
* :class:`SequenceNet`: labels a whole recording at once (any length >= 1), one logit per beat: a residual,
  non-causal dilated temporal convolution stack (it sees about 60 beats, more than the longest episode) followed by
  an optional bidirectional GRU over the whole sequence. Episodes are runs of 6-41 beats around a spike, so a
  model that sees the neighbours' evidence places episode boundaries better than one beat at a time.
* :class:`FeatureNet`: labels a whole recording from the per-beat feature matrix of ``cardiospike.features``
  (a per-beat projection, a convolution and a BiGRU over the whole sequence).

None uses batch or group normalisation: statistics over time would differ between training crops (with padding)
and whole recordings at inference.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CardioNet(nn.Module):
    """Convolution branches + BiGRU with attention pooling over a window of beats -> logit of the centre beat.

    Parameters
    ----------
    in_channels : int
        Channels per beat of the window (see :func:`cardiospike.models.nn.inputs.window_inputs`).
    window : int
        Beats per window (odd; the centre beat is labelled).
    conv_channels : int
        Filters per convolution branch.
    kernels : tuple of int
        Kernel sizes of the branches; each branch is max- and average-pooled over the window.
    gru_hidden : int
        Hidden size of each GRU direction.
    mlp_hidden : int
        Width of the head's hidden layer.
    dropout : float
        Dropout before the head's output layer.

    Input shape (batch, window, in_channels); output shape (batch,).
    """

    def __init__(
        self,
        in_channels: int = 3,
        window: int = 17,
        conv_channels: int = 32,
        kernels: tuple[int, ...] = (3, 5, 7, 9),
        gru_hidden: int = 32,
        mlp_hidden: int = 64,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.window = window
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(in_channels, conv_channels, k, padding=k // 2),
                nn.ReLU(),
                nn.Conv1d(conv_channels, conv_channels, k, padding=k // 2),
                nn.ReLU(),
            )
            for k in kernels
        )
        self.gru = nn.GRU(in_channels, gru_hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * gru_hidden, 1)
        # Pooled branches, attention-pooled GRU states and the centre beat's GRU state.
        features = 2 * conv_channels * len(kernels) + 4 * gru_hidden
        self.head = nn.Sequential(
            nn.Linear(features, mlp_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(mlp_hidden, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        conv_in = x.transpose(1, 2)  # (batch, channels, window)
        pooled = []
        for branch in self.branches:
            h = branch(conv_in)
            pooled += [h.amax(dim=2), h.mean(dim=2)]
        states, _ = self.gru(x)  # (batch, window, 2 * hidden)
        weights = torch.softmax(self.attention(states), dim=1)
        attended = (weights * states).sum(dim=1)
        centre = states[:, self.window // 2]
        return self.head(torch.cat([*pooled, attended, centre], dim=1)).squeeze(1)


class ChannelNorm(nn.Module):
    """Layer normalisation over channels at each beat of a (batch, channels, length) tensor (nothing over time)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class ResidualBlock(nn.Module):
    """Pre-norm residual block: norm -> dilated 'same' convolution -> GELU -> dropout -> 1x1 convolution."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ChannelNorm(channels),
            nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SequenceNet(nn.Module):
    """Labels every beat of a recording: dilated residual convolutions, optional BiGRU, per-beat head.

    Parameters
    ----------
    in_channels : int
        Channels per beat (see :func:`cardiospike.models.nn.inputs.sequence_inputs`).
    channels : int
        Width of the convolution stack.
    kernel : int
        Kernel size (odd) of the dilated convolutions.
    dilations : tuple of int
        One residual block per dilation; the receptive field is ``1 + (kernel - 1) * sum(dilations)`` beats.
    gru_hidden : int
        Hidden size of each direction of the BiGRU over the whole sequence; 0 for none.
    dropout : float
        Dropout inside the residual blocks and before the head.

    Input shape (batch, in_channels, length); output shape (batch, length). Any length >= 1.
    """

    def __init__(
        self,
        in_channels: int = 4,
        channels: int = 48,
        kernel: int = 5,
        dilations: tuple[int, ...] = (1, 2, 4, 8),
        gru_hidden: int = 32,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError("kernel must be odd so that the convolutions are centred")
        self.kernel, self.dilations = kernel, tuple(dilations)
        self.stem = nn.Conv1d(in_channels, channels, kernel, padding=kernel // 2)
        self.blocks = nn.Sequential(*(ResidualBlock(channels, kernel, d, dropout) for d in dilations))
        self.norm = ChannelNorm(channels)
        self.gru = nn.GRU(channels, gru_hidden, batch_first=True, bidirectional=True) if gru_hidden > 0 else None
        head_in = channels + (2 * gru_hidden if gru_hidden > 0 else 0)
        self.head = nn.Sequential(
            nn.Conv1d(head_in, channels, 1), nn.GELU(), nn.Dropout(dropout), nn.Conv1d(channels, 1, 1)
        )

    @property
    def receptive_field(self) -> int:
        """Beats that one output of the convolution stack sees (the GRU, when present, sees the whole sequence)."""
        return self.kernel + (self.kernel - 1) * sum(self.dilations)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(self.blocks(self.stem(x)))
        if self.gru is not None:
            states, _ = self.gru(h.transpose(1, 2))
            h = torch.cat([h, states.transpose(1, 2)], dim=1)
        return self.head(h).squeeze(1)


class FeatureNet(nn.Module):
    """Labels every beat of a recording from its per-beat feature matrix (the one LightGBM learns from).

    The features are standardised inside the network (``mean`` and ``std`` are buffers set from the training data,
    so the exported file carries them); a missing value (NaN) becomes 0 and sets its own indicator channel. A
    per-beat projection, a residual convolution over neighbouring beats and a bidirectional GRU over the whole
    recording then give one logit per beat: the engineered features describe each beat well, and the sequence
    layers place the episode boundaries from the neighbours' evidence.

    Parameters
    ----------
    in_features : int
        Features per beat.
    channels : int
        Width of the per-beat projection and the convolution.
    kernel : int
        Kernel size (odd) of the convolution.
    gru_hidden : int
        Hidden size of each GRU direction.
    dropout : float
        Dropout after the projection and before the head's output layer.

    Input shape (batch, in_features, length), NaN where missing; output shape (batch, length). Any length >= 1.
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self, in_features: int, channels: int = 32, kernel: int = 5, gru_hidden: int = 32, dropout: float = 0.3
    ) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError("kernel must be odd so that the convolution is centred")
        self.register_buffer("mean", torch.zeros(1, in_features, 1))
        self.register_buffer("std", torch.ones(1, in_features, 1))
        self.project = nn.Sequential(nn.Conv1d(2 * in_features, channels, 1), nn.GELU(), nn.Dropout(dropout))
        self.conv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.gru = nn.GRU(channels, gru_hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(
            nn.Conv1d(channels + 2 * gru_hidden, channels, 1), nn.GELU(), nn.Dropout(dropout), nn.Conv1d(channels, 1, 1)
        )

    @torch.no_grad()
    def set_scaling(self, mean: Tensor, std: Tensor) -> None:
        """Set the per-feature mean and standard deviation (shape (in_features,)) used to standardise inputs."""
        self.mean.copy_(mean.reshape(self.mean.shape))
        self.std.copy_(std.reshape(self.std.shape))

    def forward(self, x: Tensor) -> Tensor:
        missing = torch.isnan(x)
        # Clipped: a few extreme values (long pauses) must not dominate the projection.
        z = torch.where(missing, torch.zeros_like(x), ((x - self.mean) / self.std).clamp(-6.0, 6.0))
        h = self.project(torch.cat([z, missing.to(x.dtype)], dim=1))
        h = h + torch.relu(self.conv(h))
        states, _ = self.gru(h.transpose(1, 2))
        return self.head(torch.cat([h, states.transpose(1, 2)], dim=1)).squeeze(1)
