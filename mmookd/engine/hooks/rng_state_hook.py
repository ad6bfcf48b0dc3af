# Copyright (c) mmookd authors. All rights reserved.
"""Save the torch RNG state in checkpoints and restore it on resume."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue the torch random stream exactly.

    mmengine checkpoints hold the seed but not the state of torch's random
    generator, and the train loop replays the batches it skips (so the
    Python and numpy streams of the data pipeline resume exactly) without
    running the model (so the torch stream does not): after a resume,
    dropout masks and the random negatives of ``loss_embed_aux`` differ
    from an uninterrupted run. This hook stores ``torch.get_rng_state()``
    (and the CUDA states) in every checkpoint and restores them right
    before the first iteration after a resume, i.e. after the skipped
    batches were replayed.

    Only the state of the process that saves the checkpoint (rank 0) is
    stored; under DDP the other ranks get rank 0's state.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        if state is not None:
            self._pending = dict(state, iter=checkpoint['meta'].get('iter'))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        # Only when training goes on from the checkpoint's iteration (a
        # resume), not when ``load_from`` starts a new training.
        state, self._pending = self._pending, None
        if state is None or state['iter'] != batch_idx:
            return
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
