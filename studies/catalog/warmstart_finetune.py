"""Seed 004's warm-start fine-tuning: a float MLP pretrained once, then fine-tuned from its weights, float and
quantized (4-bit QAT, as the seed's), under the aggressive polynomial decay 1e-3 -> 1e-4 vs the conservative 5e-4 -> 1e-5 with
clipnorm 1.0; binary tabular data (scikit-learn's breast cancer), scored by accuracy and ROC AUC.

The warm start fails loudly when it leaves a layer as initialized (init.allow_partial=false): the seed's first run
silently skipped its renamed output layer. The quantized model is our own fake quantization on torch's ops
(trainables.models.quant: torch.ao's prepare_qat keeps observer state a float checkpoint cannot hold; torchao is not
installed): 4-bit weights and activations of every linear layer (model.quant_bits=4), the seed's bit width, not
its QKeras quantizers (their per-layer ranges are not given).

What the seed leaves open, and what is chosen here:
- Its data and model (muon-collider smart-pixel clusters, two dense branches) are not public: breast cancer (569 x 30,
  binary) and tabular_mlp (30 -> 64 -> 32 -> 2) stand in.
- The optimizer is not named (Keras: Adam is the usual): AdamW with weight decay 0, i.e. Adam.
- Pretraining: the seed's "Original" run, 1e-3 constant, 50 epochs, from scratch. Fine-tuning: 50 epochs ("80-100
  instead of 50" is its next step), power 2 ("power=1 for linear instead of power=2" is its alternative).
- Clipnorm 1.0 came with the conservative schedule in the seed's fix, so the aggressive arm runs unclipped.
- The seed's table has three rows: Original (from scratch, 1e-3 constant), First attempt (aggressive decay, warm
  start missing its output layer), Fixed. All three are arms here ("quant original", the baseline every arm is
  compared with; "quant aggressive partial", whose warm start leaves `fc` as initialized through init.skip;
  "quant conservative"), with "quant aggressive" between them (the first attempt with the warm start fixed: each
  fix's share) and the float model under both schedules.
- Batch 32 (not given); data.val_fraction 0.2 (91 validation rows: 0.1 would leave 46, 2% per row); the test split
  is breast_cancer's fixed stratified 114 rows, measured once at the end on the last weights.
Both profiles are the same (tabular data trains in seconds on a CPU): `local` is `full`.
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Grid, Variants
from studies.study import Study
from trainables.config import DataConfig, InitConfig, ModelConfig, OptimConfig, ScheduleConfig, TrainConfig

DESCRIPTION = ("warm-start fine-tuning, float and 4-bit QAT: poly 1e-3->1e-4 vs 5e-4->1e-5 + clipnorm 1.0, "
               "breast cancer acc/AUC (seed 004)")
SEED = "004"
EXPERIMENT = "warm-start fix (Dec 1)"

SEEDS = (0, 1, 2)
EPOCHS = 50  # the seed's fine-tuning length
DATA = DataConfig(name="breast_cancer", augment=False, batch_size=32, val_fraction=0.2)
MODEL = ModelConfig(name="tabular_mlp", drop_rate=0.1)  # dropout: not given; a little, as dense nets usually have
QUANT = {"model.fake_quant": True, "model.quant_bits": 4}  # the seed's quantized model: 4 bits
FLOAT = {"model.fake_quant": False}
ADAM = OptimConfig(name="adamw", lr=1e-3, weight_decay=0.0)

PRETRAIN = TrainConfig(  # the float model every trial starts from: trained once, before the trials
    epochs=EPOCHS, data=DATA, model=MODEL, optim=ADAM, sched=ScheduleConfig(name="constant"),
)
FINETUNE = replace(PRETRAIN, init=InitConfig(mode="warm", allow_partial=False))  # init.checkpoint: the driver's

AGGRESSIVE = {"optim.lr": 1e-3, "sched.name": "poly", "sched.eta_min": 1e-4, "sched.power": 2.0,
              "optim.grad_clip": 0.0}
CONSERVATIVE = {"optim.lr": 5e-4, "sched.name": "poly", "sched.eta_min": 1e-5, "sched.power": 2.0,
                "optim.grad_clip": 1.0}
# The seed's "Original (Nov 17)": the quantized model from scratch (no warm start), 1e-3 constant
ORIGINAL = {"init.checkpoint": "", "optim.lr": 1e-3, "sched.name": "constant", "optim.grad_clip": 0.0}
# Its first attempt as it ran: the warm start silently skipped the output layer (tabular_mlp's `fc`)
SKIPPED_OUTPUT = {"init.skip": ("fc",), "init.allow_partial": True}
VARIANTS = Variants((
    {"name": "quant original", **QUANT, **ORIGINAL},  # the seed's reference, Acc 0.846
    {"name": "quant aggressive partial", **QUANT, **AGGRESSIVE, **SKIPPED_OUTPUT},  # its first attempt, Acc 0.831
    {"name": "quant aggressive", **QUANT, **AGGRESSIVE},  # the first attempt with the warm start fixed
    {"name": "quant conservative", **QUANT, **CONSERVATIVE},  # the seed's fix (both fixes)
    {"name": "float aggressive", **FLOAT, **AGGRESSIVE},
    {"name": "float conservative", **FLOAT, **CONSERVATIVE},
))


def get_study(profile: str) -> Study:
    # One configuration per seed, every trial to its end (no ASHA): the table pairs each arm with the baseline
    # seed by seed. Selected on val/acc (the task's lead); val/auc, test/acc and test/auc are logged alongside.
    return Study(profile=profile, base=FINETUNE, pretrain=PRETRAIN,
                 space={"variant": VARIANTS, "seed": Grid(SEEDS)}, search="grid", asha=None,
                 baseline="quant original", gpus_per_trial=0.0, cpus_per_trial=1.0)
