"""Offline rehearsal: the real program deployed into an in-process AWS emulator (moto)."""
