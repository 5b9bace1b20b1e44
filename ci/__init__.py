"""CI scripts: the packaging check (check_packaging.sh) and what it reads (packaging.py)."""
