"""The course's entry point: `python main.py --model resnet18 --optimizer momentum --lr 0.01 ...`
(the same options as `python -m tinygrad_ift train`; `python main.py --help` lists them)."""
import models  # noqa: F401  registers the course models, also in a checkout that is not pip-installed
from tinygrad_ift.training import main

if __name__ == "__main__":
    main()
