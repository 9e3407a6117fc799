#!/usr/bin/env python3
"""The PyTorch reference point of BENCHMARKS.md: training-step throughput of He, Gong and Fan
(WACV 2019)'s ternary method in PyTorch on the CPU, for CIFAR ResNet-20 (as `tern bench` times it).

Written in the manner of the reference repository (Ternarized_Neural_Network: tern_resnet20,
ResNet_REL), so that it costs what the reference costs:
  - threshold = f * max|W|, alpha = mean |W| over |W| >= threshold, T = +alpha / -alpha / 0;
  - straight-through gradient, zeroed where |W| >= 1;
  - REL with t_ex branches of factors 0.05, 0.1, 0.15, 0.2, each running its own convolution
    (Ternary Studio runs one on the summed ternary weight; docs/method.md);
  - option-A shortcuts, SGD with Nesterov momentum 0.9 and weight decay 3e-4.
Random inputs (batch x 3 x 32 x 32, 10 classes); 3 warm-up steps, then `--steps` timed ones.
Prints one JSON line, e.g. {"engine": "pytorch-1.13.0", "mode": "tern", "tex": 1, ..., "img_per_s": 412.3}.

Needs Debian's python3-torch: run with /usr/bin/python3 (scripts/bench-torch.sh does).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads')
parser.add_argument('--mode', choices=['fp', 'tern'], default='tern', help='float or ternary weights')
parser.add_argument('--tex', type=int, default=1, choices=[1, 2, 3, 4], help='REL branches')
parser.add_argument('--depth', type=int, default=20, help='CIFAR ResNet depth (6n+2)')
parser.add_argument('--bs', type=int, default=128, help='batch size')
parser.add_argument('--steps', type=int, default=10, help='timed training steps')
parser.add_argument('--size', type=int, default=32, help='image height and width')
parser.add_argument('--channels', type=int, default=3, help='image channels')
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
FACTORS = [0.05, 0.1, 0.15, 0.2][:args.tex]


class Ternarize(torch.autograd.Function):
    """T(W) with threshold factor f; the gradient passes straight through where |W| < 1."""

    @staticmethod
    def forward(ctx, weight, factor):
        ctx.save_for_backward(weight)
        threshold = factor * weight.abs().max()
        alpha = weight.abs()[weight.abs() >= threshold].mean()
        out = torch.zeros_like(weight)
        out[weight >= threshold] = alpha
        out[weight < -threshold] = -alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, = ctx.saved_tensors
        grad = grad.clone()
        grad[weight >= 1] = 0
        grad[weight <= -1] = 0
        return grad, None


class TernaryConv2d(nn.Conv2d):
    def forward(self, x):
        if args.mode == 'fp':
            return F.conv2d(x, self.weight, None, self.stride, self.padding)
        out = None
        for factor in FACTORS:  # one convolution per REL branch, as the reference does
            y = F.conv2d(x, Ternarize.apply(self.weight, factor), None, self.stride, self.padding)
            out = y if out is None else out + y
        return out


class TernaryLinear(nn.Linear):
    def forward(self, x):
        if args.mode == 'fp':
            return F.linear(x, self.weight, self.bias)
        out = None
        for factor in FACTORS:
            y = F.linear(x, Ternarize.apply(self.weight, factor), self.bias)
            out = y if out is None else out + y
        return out


class BasicBlock(nn.Module):
    def __init__(self, channels_in, channels_out, stride):
        super().__init__()
        self.conv_a = TernaryConv2d(channels_in, channels_out, 3, stride, 1, bias=False)
        self.bn_a = nn.BatchNorm2d(channels_out)
        self.conv_b = TernaryConv2d(channels_out, channels_out, 3, 1, 1, bias=False)
        self.bn_b = nn.BatchNorm2d(channels_out)
        self.downsample = stride != 1 or channels_in != channels_out

    def forward(self, x):
        y = F.relu(self.bn_a(self.conv_a(x)))
        y = self.bn_b(self.conv_b(y))
        shortcut = x
        if self.downsample:  # option A: stride-2 subsample, channels doubled with zeros
            shortcut = F.avg_pool2d(x, 1, 2)
            shortcut = torch.cat((shortcut, shortcut.mul(0)), 1)
        return F.relu(shortcut + y)


class CifarResNet(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        blocks_per_stage = (depth - 2) // 6
        self.conv = TernaryConv2d(args.channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks = []
        channels = 16
        for channels_out, stride in [(16, 1), (32, 2), (64, 2)]:
            for k in range(blocks_per_stage):
                blocks.append(BasicBlock(channels, channels_out, stride if k == 0 else 1))
                channels = channels_out
        self.stages = nn.Sequential(*blocks)
        self.classifier = TernaryLinear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.stages(x)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


net = CifarResNet(args.depth)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=3e-4)
images = torch.randn(args.bs, args.channels, args.size, args.size)
labels = torch.randint(0, 10, (args.bs,))


def train_step():
    optimizer.zero_grad()
    loss = F.cross_entropy(net(images), labels)
    loss.backward()
    optimizer.step()


for _ in range(3):
    train_step()
started = time.time()
for _ in range(args.steps):
    train_step()
seconds_per_step = (time.time() - started) / args.steps
print(json.dumps({
    "engine": "pytorch-" + torch.__version__, "threads": args.threads, "mode": args.mode, "tex": args.tex,
    "depth": args.depth, "batch": args.bs, "ms_per_step": round(seconds_per_step * 1000, 1),
    "img_per_s": round(args.bs / seconds_per_step, 1),
}))
