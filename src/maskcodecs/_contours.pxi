# Part of _rle_core.pyx (included at its end). Owned by its feature module.
