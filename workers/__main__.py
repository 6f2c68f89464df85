"""``python -m workers``: the same as ``hotline worker``."""

from app.cli import main

if __name__ == "__main__":
    main(["worker"])
