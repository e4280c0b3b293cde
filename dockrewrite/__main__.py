"""`python -m dockrewrite`: the same entry point as the `dockrewrite` command."""

from dockrewrite.entry import main

if __name__ == "__main__":  # not when a worker process imports it as __mp_main__
    main()
