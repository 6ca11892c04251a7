"""The bundled demo fleet (data only)."""
