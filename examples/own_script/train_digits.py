"""Train a small MLP on scikit-learn's 8x8 digits: the kind of training script a study starts from.

python train_digits.py --lr 0.05 --epochs 20
"""

import argparse

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn


class MLP(nn.Module):
    def __init__(self, hidden: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


def load(seed):
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(x_train, y_train, test_size=0.2, random_state=seed)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def train_epoch(model, optimizer, x, y, batch_size):
    model.train()
    total = 0.0
    for i in torch.randperm(len(x)).split(batch_size):
        loss = nn.functional.cross_entropy(model(x[i]), y[i])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(i)
    return total / len(x)


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


def main(args):
    torch.manual_seed(args.seed)
    train, val, test = load(args.seed)
    model = MLP(args.hidden, args.dropout)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(model, optimizer, *train, args.batch_size)
        scheduler.step()
        val_acc = accuracy(model, *val)
        print(f"epoch {epoch}: train loss {loss:.4f}, val acc {val_acc:.4f}")
    print(f"test acc {accuracy(model, *test):.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
