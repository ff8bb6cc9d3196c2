"""Makes freia_reference.json: FrEIA's AllInOneBlock, FastFlow's flow, loss and map, and CFlow-AD's decoder,
positional encoding, likelihood, loss and map, computed by the reference code on small fixed inputs.

Run (Debian 12: apt-get install python3-torch python3-scipy python3-numpy):
    /usr/bin/python3 make_fixtures.py --freia DIR --freia-current DIR --fastflow DIR --cflow DIR > freia_reference.json

The reference code is NOT part of Vigil; it is imported from local copies made outside the repository:
  --freia: a folder holding the FrEIA package (FrEIA/framework, FrEIA/modules) of github.com/vislearn/FrEIA at
      1779d1fba1e21000fda1927b59eeac0a6fcaa284, the commit gathierry/FastFlow's requirements.txt pins. Its
      all_in_one_block.py and sequence_inn.py compute the same numbers as at the commits CFlow-AD's README names
      (4e0c6ab 2021-04, cc5cf5e 2023-03): soft clamping clamp * tanh(s), hard permutation as a one-hot matrix.
  --freia-current: the same folder at 4212496 (2024; AllInOneBlock unchanged since 2023-09): clamp * tanh(s / clamp),
      hard permutation as an index. Only the case "current_freia" uses it.
  --fastflow: github.com/gathierry/FastFlow @ 2cf1f2f (fastflow.py: subnet_conv_func, nf_fast_flow and the class
      FastFlow, whose forward computes the loss and the anomaly map; IM-IAD's open-iad models/fastflow/net.py is the
      same code). Its timm feature extractor is replaced by a stub that returns fixed features.
  --cflow: github.com/gudovskiy/cflow-ad @ b2ebf9e (model.py: positionalencoding2d, subnet_fc, freia_cflow_head;
      utils.py: get_logp). timm and its custom_models are stubbed (only the encoders need them). The fibre
      reshaping, the log_theta loss and the test-time map normalisation are written inline in train.py
      (train_meta_epoch, test_meta_epoch, train); cflow_case computes the same with the same torch operations.

Weights start from FrEIA's and PyTorch's own initialisation under fixed seeds, then are perturbed (subnet weights
scaled up so the soft clamp saturates, global scales and offsets moved off their initial values) so every term
matters. Every tensor is stored flat, row-major, with its shape; hard permutations as the index w_perm[i] = j of the
one-hot row (output channel i = input channel j), the form Vigil stores.
"""
import argparse
import contextlib
import importlib
import importlib.util
import json
import subprocess
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class StubExtractor(nn.Module):
    """Stands in for timm.create_model(features_only=True): fixed features, their channels and reductions."""
    features = []
    channels, reductions = [], []

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.feature_info = types.SimpleNamespace(channels=lambda: list(StubExtractor.channels),
                                                  reduction=lambda: list(StubExtractor.reductions))

    def forward(self, x):
        return [f.clone() for f in StubExtractor.features]


def install_stubs():
    """timm and cflow-ad's custom_models, which only the (replaced) encoders need."""
    timm = types.ModuleType("timm")
    timm.create_model = lambda *args, **kwargs: StubExtractor()
    timm.models = types.SimpleNamespace(vision_transformer=types.SimpleNamespace(VisionTransformer=type("V", (), {})),
                                        cait=types.SimpleNamespace(Cait=type("C", (), {})))
    sys.modules["timm"] = timm
    sys.modules["custom_models"] = types.ModuleType("custom_models")


def import_from(folder, name):
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "values": x.flatten().tolist()}


def state(module):
    out = {}
    for name, value in module.state_dict().items():
        if name.endswith("w_perm") or name.endswith("w_perm_inv"):
            if value.dtype != torch.long and value.dim() >= 2 and bool(((value == 0) | (value == 1)).all()) \
                    and bool((value.sum(1) == 1).all()):
                value = value.reshape(value.shape[0], value.shape[1]).argmax(1)  # one-hot rows -> index
        out[name] = t(value)
    return out


def perturb(module, generator, subnet_gain):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("global_scale"):
                p.add_(0.6 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
            elif name.endswith("global_offset"):
                p.add_(0.5 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
            elif ".subnet." in name or name.startswith("subnet."):
                p.mul_(subnet_gain)
            elif name.startswith("norms."):
                p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=p.dtype))


def block_case(Fm, name, dtype, channels, spatial, cond, subnet, kind, seed, n=3, **kwargs):
    torch.manual_seed(seed)
    np.random.seed(seed)
    dims_in = [(channels, *spatial)]
    dims_c = [(cond, *spatial)] if cond else []
    block = Fm.AllInOneBlock(dims_in, dims_c, subnet_constructor=subnet, **kwargs).to(dtype)
    g = torch.Generator().manual_seed(seed + 1)
    perturb(block, g, 4.0)
    x = 1.5 * torch.randn((n, channels, *spatial), generator=g, dtype=dtype)
    c = [torch.randn((n, cond, *spatial), generator=g, dtype=dtype)] if cond else []
    z = torch.randn((n, channels, *spatial), generator=g, dtype=dtype)
    with torch.no_grad():
        (y,), j = block((x,), c)
        (x_back,), j_back = block((y,), c, rev=True)
        (x_rev,), j_rev = block((z,), c, rev=True)
    case = {"name": name, "dtype": str(dtype).replace("torch.", ""), "kind": kind, "channels": channels,
            "spatial": list(spatial), "condition_channels": cond, "options": kwargs, "state": state(block),
            "x": t(x), "y": t(y), "log_jac_det": t(j), "x_back": t(x_back), "log_jac_det_back": t(j_back),
            "z": t(z), "x_of_z": t(x_rev), "log_jac_det_of_z": t(j_rev)}
    if cond:
        case["c"] = t(c[0])
    return case


def block_cases(Fm, current, ff, cf):
    f64, f32 = torch.float64, torch.float32
    if current:
        return [block_case(Fm, "current_freia", f64, 5, (3, 4), 0, ff.subnet_conv_func(3, 1.0), "conv3", 21,
                           affine_clamping=2.0, permute_soft=False)]
    return [
        block_case(Fm, "fastflow_conv3", f64, 5, (3, 4), 0, ff.subnet_conv_func(3, 1.0), "conv3", 1,
                   affine_clamping=2.0, permute_soft=False),
        block_case(Fm, "fastflow_conv1_sigmoid", f64, 6, (3, 3), 0, ff.subnet_conv_func(1, 0.5), "conv1", 2,
                   affine_clamping=2.0, permute_soft=False, global_affine_type="SIGMOID", global_affine_init=0.7),
        block_case(Fm, "cflow_fc_soft", f64, 6, (), 4, cf.subnet_fc, "fc", 3, n=7,
                   affine_clamping=1.9, global_affine_type="SOFTPLUS", permute_soft=True),
        block_case(Fm, "gin_soft_conditional", f64, 4, (2, 3), 2, ff.subnet_conv_func(3, 1.0), "conv3", 4,
                   affine_clamping=1.5, gin_block=True, permute_soft=True),
        block_case(Fm, "exp_reverse_permutation", f64, 5, (2, 3), 0, ff.subnet_conv_func(3, 1.0), "conv3", 6,
                   affine_clamping=1.5, reverse_permutation=True, global_affine_type="EXP", global_affine_init=1.3),
        block_case(Fm, "cflow_fc_soft_float32", f32, 6, (), 4, cf.subnet_fc, "fc", 5, n=7,
                   affine_clamping=1.9, global_affine_type="SOFTPLUS", permute_soft=True),
    ]


def fastflow_case(ff):
    """The class FastFlow of fastflow.py (ResNet branch) on fixed features: two layers, 3 flow steps, input 8 x 8."""
    torch.manual_seed(10)
    np.random.seed(10)
    layers, reductions, input_size = [(4, 4, 4), (6, 2, 2)], [2, 4], 8
    StubExtractor.channels, StubExtractor.reductions = [c for c, _, _ in layers], reductions
    model = ff.FastFlow("resnet18", flow_steps=3, input_size=input_size, conv3x3_only=False, hidden_ratio=1.0).double()
    g = torch.Generator().manual_seed(11)
    perturb(model, g, 2.0)
    features = [2.0 * torch.randn((2, c, h, w), generator=g, dtype=torch.float64) + 0.5 for c, h, w in layers]
    StubExtractor.features = features
    model.eval()
    with torch.no_grad():
        ret = model(torch.zeros((2, 3, input_size, input_size), dtype=torch.float64))
        flows = [model.nf_flows[i](model.norms[i](f)) for i, f in enumerate(features)]
    return {"layers": [list(l) for l in layers], "flow_steps": 3, "input_size": [input_size, input_size],
            "state": state(model), "features": [t(f) for f in features], "z": [t(z) for z, _ in flows],
            "log_jac_det": [t(j) for _, j in flows], "loss": float(ret["loss"]), "anomaly_map": t(ret["anomaly_map"])}


def cflow_case(cf, cf_utils):
    """freia_cflow_head decoders on fixed features, scored as test_meta_epoch does, the map normalised as train()."""
    c = types.SimpleNamespace(coupling_blocks=2, clamp_alpha=1.9, condition_vec=8)
    torch.manual_seed(20)
    np.random.seed(20)
    layers = [(6, 3, 4), (4, 2, 2)]
    crp_size = (7, 9)
    with contextlib.redirect_stdout(sys.stderr):  # freia_cflow_head prints
        decoders = [cf.freia_cflow_head(c, ch).double() for ch, _, _ in layers]
    g = torch.Generator().manual_seed(21)
    for d in decoders:
        perturb(d, g, 2.0)
    B, P = 2, c.condition_vec
    activations = [torch.randn((B, ch, h, w), generator=g, dtype=torch.float64) for ch, h, w in layers]
    out = {"condition_vec": P, "coupling_blocks": c.coupling_blocks, "clamp_alpha": c.clamp_alpha,
           "layers": [list(l) for l in layers], "crop_size": list(crp_size), "decoders": [state(d) for d in decoders],
           "features": [t(a) for a in activations], "z": [], "log_jac_det": [], "log_prob": [], "loss": []}
    test_dist, sizes = [], []
    with torch.no_grad():
        for l, e in enumerate(activations):  # test_meta_epoch: one batch, all fibres in one fibre batch
            B, C, H, W = e.size()
            S, E = H * W, B * H * W
            sizes.append((H, W))
            p = cf.positionalencoding2d(P, H, W).double().unsqueeze(0).repeat(B, 1, 1, 1)
            c_r = p.reshape(B, P, S).transpose(1, 2).reshape(E, P)
            e_r = e.reshape(B, C, S).transpose(1, 2).reshape(E, C)
            z, log_jac_det = decoders[l](e_r, [c_r])
            log_prob = cf_utils.get_logp(C, z, log_jac_det) / C
            loss = -nn.LogSigmoid()(log_prob)
            test_dist.append(log_prob.tolist())
            for key, value in (("z", z), ("log_jac_det", log_jac_det), ("log_prob", log_prob), ("loss", loss)):
                out[key].append(t(value))
    score_map = 0  # train(): per layer exp(log p - max) upsampled, summed, then max - map
    for l, (H, W) in enumerate(sizes):
        norm = torch.tensor(test_dist[l], dtype=torch.double)
        prob = torch.exp(norm - torch.max(norm)).reshape(-1, H, W)
        score_map = score_map + F.interpolate(prob.unsqueeze(1), size=crp_size, mode="bilinear",
                                              align_corners=True).squeeze().numpy()
    super_mask = score_map.max() - score_map
    out["anomaly_map"] = {"shape": list(super_mask.shape), "values": super_mask.flatten().tolist()}
    out["image_scores"] = np.max(super_mask, axis=(1, 2)).tolist()
    return out


def load(path, name, folder=None):
    """A reference module from its file, under a name of its own (both repositories have a utils.py)."""
    if folder:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser()
    for name in ("--freia", "--freia-current", "--fastflow", "--cflow"):
        parser.add_argument(name, required=True)
    parser.add_argument("--only-current", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    install_stubs()
    if args.only_current:  # a child process: the two FrEIA versions share a package name
        sys.path.insert(0, args.freia_current)
        ff = load(f"{args.fastflow}/fastflow.py", "ref_fastflow", args.fastflow)
        json.dump(block_cases(importlib.import_module("FrEIA.modules"), True, ff, None), sys.stdout)
        return
    current = json.loads(subprocess.run([sys.executable, __file__, *sys.argv[1:], "--only-current"],
                                        check=True, capture_output=True).stdout)
    sys.path.insert(0, args.freia)
    Fm = importlib.import_module("FrEIA.modules")
    ff = load(f"{args.fastflow}/fastflow.py", "ref_fastflow", args.fastflow)
    cf = load(f"{args.cflow}/model.py", "ref_cflow_model", args.cflow)
    cf_utils = load(f"{args.cflow}/utils.py", "ref_cflow_utils")
    result = {
        "torch": torch.__version__,
        "blocks": block_cases(Fm, False, ff, cf) + current,
        "fastflow": fastflow_case(ff),
        "cflow": cflow_case(cf, cf_utils),
        "positional_encoding": [{"d": d, "h": h, "w": w, "p": t(cf.positionalencoding2d(d, h, w))}
                                for d, h, w in [(8, 2, 3), (128, 5, 7), (4, 1, 1)]],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
