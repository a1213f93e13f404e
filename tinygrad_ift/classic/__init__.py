"""By-hand gradients next to autograd: logistic regression, a manual-backprop MLP, and a Bayesian network."""
from .autograd_mlp import AutogradMLP
from .bayesnet import BayesNet, student_network
from .logistic import AdamState, LinearModel, accuracy, add_bias_column, cross_entropy, one_hot, softmax
from .manual_mlp import ManualMLP
from .training import evaluate, fit, split_train_valid

__all__ = ["softmax", "one_hot", "cross_entropy", "accuracy", "add_bias_column", "AdamState", "LinearModel",
           "ManualMLP", "AutogradMLP", "BayesNet", "student_network", "fit", "evaluate", "split_train_valid"]
