"""A tiny random-weight Stable Diffusion pipeline, built offline and saved to a directory.

Every part is made here from a config (nothing is downloaded): a CLIP tokenizer from a vocab and
merges file written first, a one-layer CLIP text encoder, a UNet with one cross-attention level,
a VAE with four levels (so latents are 1/8 of the image, as in real Stable Diffusion) and a DDIM
scheduler. About 0.5 MB on disk; a 512x512 image in 2 steps takes well under a second on a CPU.
Torch and diffusers are imported inside `build`, so importing this module costs nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

LETTERS = "abcdefghijklmnopqrstuvwxyz"
VOCAB = ["<|startoftext|>", "<|endoftext|>", *LETTERS, *(f"{c}</w>" for c in LETTERS)]
TEXT_WIDTH = 16
MAX_TOKENS = 77


def write_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.json"
    merges = folder / "merges.txt"
    vocab.write_text(json.dumps({token: index for index, token in enumerate(VOCAB)}))
    merges.write_text("#version: 0.2\n")  # no merges: every word is spelled letter by letter
    return vocab, merges


def build(directory: Path) -> Path:
    """Builds the pipeline, saves it with `save_pretrained` into `directory`, returns it."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab, merges = write_tokenizer_files(directory.parent / f"{directory.name}-tokenizer")
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=MAX_TOKENS)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(VOCAB),
            hidden_size=TEXT_WIDTH,
            intermediate_size=2 * TEXT_WIDTH,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=MAX_TOKENS,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=32,  # the default size: 32 latents = 256 pixels
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8, 8, 8, 8),
        norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        sample_size=256,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(directory)
    return directory
