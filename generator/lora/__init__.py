"""What a LoRA file is, from its safetensors header alone: pure analysis, no I/O (offline core)."""
