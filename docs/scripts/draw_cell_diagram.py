"""Draws the data flow of one `ChungGRUCell` step as docs/assets/chung_gru_cell.svg.

The figure follows the equations on the page "The math" wire for wire: the
reset gate multiplies the previous state before the candidate's recurrent
product, and the update gate z weighs the new candidate (z) against the
previous state (1 - z).

Run from the repository root:

    python docs/scripts/draw_cell_diagram.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.patheffects as path_effects
import matplotlib.pyplot as plt
from matplotlib.patches import Circle
from matplotlib.patches import FancyBboxPatch

OUTPUT = Path(__file__).resolve().parents[1] / "assets" / "chung_gru_cell.svg"

STATE_Y, LANE_Y, GATE_Y, INPUT_Y = 6.2, 4.6, 3.1, 1.4
RESET_X, RESET_PRODUCT_X, CANDIDATE_X, UPDATE_X = 2.2, 3.8, 5.6, 8.0
KEEP_X, NEW_X = 9.6, 11.0
BOX_W, BOX_H, NODE_R = 1.4, 1.0, 0.22

WIRE = "#37474f"
GATE_COLOR = "#ffe0b2"
CANDIDATE_COLOR = "#c8e6c9"
NODE_COLOR = "#e3f2fd"
# A white halo under each wire shows which of two crossing wires passes over.
HALO = [path_effects.Stroke(linewidth=6, foreground="white"), path_effects.Normal()]


def wire(ax, points, arrow=True):
    xs, ys = zip(*points, strict=True)
    ax.plot(xs[:-1], ys[:-1], color=WIRE, lw=1.6, path_effects=HALO, zorder=2)
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={
            "arrowstyle": "-|>" if arrow else "-",
            "color": WIRE,
            "lw": 1.6,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 14,
        },
        zorder=2,
    )


def box(ax, x, y, label, color, caption):
    ax.add_patch(
        FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=color,
            edgecolor=WIRE,
            lw=1.4,
            zorder=3,
        )
    )
    ax.text(x, y + 0.13, label, ha="center", va="center", fontsize=15, zorder=4)
    ax.text(
        x, y - 0.27, caption, ha="center", va="center", fontsize=8.5, color="#455a64"
    )


def node(ax, x, y, label):
    ax.add_patch(
        Circle((x, y), NODE_R, facecolor=NODE_COLOR, edgecolor=WIRE, lw=1.4, zorder=3)
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=13, zorder=4)


def junction(ax, x, y):
    ax.add_patch(Circle((x, y), 0.06, color=WIRE, zorder=3))


def label(ax, x, y, text, fontsize=14, **kwargs):
    ax.text(x, y, text, fontsize=fontsize, zorder=5, **kwargs)


def draw(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9.6, 5.4))
    ax.set_xlim(-0.4, 12.9)
    ax.set_ylim(0.9, 6.9)
    ax.set_aspect("equal")
    ax.axis("off")

    # The two inputs: the previous state along the top, x_t along the bottom.
    label(ax, -0.35, STATE_Y, r"$h_{t-1}$", va="center")
    ax.plot([0.55, KEEP_X - NODE_R], [STATE_Y] * 2, color=WIRE, lw=1.6, zorder=1)
    label(ax, -0.1, INPUT_Y, r"$x_t$", va="center")
    ax.plot([0.55, UPDATE_X], [INPUT_Y] * 2, color=WIRE, lw=1.6, zorder=1)
    for x in (RESET_X, CANDIDATE_X, UPDATE_X):
        wire(ax, [(x, INPUT_Y), (x, GATE_Y - BOX_H / 2)])
        junction(ax, x, INPUT_Y)
    for x in (RESET_X, UPDATE_X):
        wire(ax, [(x, STATE_Y), (x, GATE_Y + BOX_H / 2)])
        junction(ax, x, STATE_Y)
    junction(ax, RESET_PRODUCT_X, STATE_Y)

    # Reset gate, applied to h_{t-1} before the candidate's product with U_h.
    box(ax, RESET_X, GATE_Y, r"$\sigma$", GATE_COLOR, "reset gate")
    wire(
        ax,
        [
            (RESET_X + BOX_W / 2, GATE_Y),
            (RESET_PRODUCT_X, GATE_Y),
            (RESET_PRODUCT_X, LANE_Y - NODE_R),
        ],
    )
    label(ax, RESET_X + BOX_W / 2 + 0.1, GATE_Y + 0.12, r"$r_t$")
    wire(ax, [(RESET_PRODUCT_X, STATE_Y), (RESET_PRODUCT_X, LANE_Y + NODE_R)])
    node(ax, RESET_PRODUCT_X, LANE_Y, r"$\times$")
    wire(
        ax,
        [
            (RESET_PRODUCT_X + NODE_R, LANE_Y),
            (CANDIDATE_X, LANE_Y),
            (CANDIDATE_X, GATE_Y + BOX_H / 2),
        ],
    )
    label(ax, RESET_PRODUCT_X + 0.3, LANE_Y + 0.12, r"$r_t \circ h_{t-1}$")

    # Candidate state.
    box(ax, CANDIDATE_X, GATE_Y, r"$\tanh$", CANDIDATE_COLOR, "candidate")
    wire(
        ax,
        [
            (CANDIDATE_X + BOX_W / 2, GATE_Y),
            (6.6, GATE_Y),
            (6.6, LANE_Y),
            (NEW_X - NODE_R, LANE_Y),
        ],
    )
    label(ax, 6.72, GATE_Y + 0.45, r"$\tilde{h}_t$")

    # Update gate: z weighs the new candidate, 1 - z the previous state.
    box(ax, UPDATE_X, GATE_Y, r"$\sigma$", GATE_COLOR, "update gate")
    wire(
        ax, [(UPDATE_X + BOX_W / 2, GATE_Y), (NEW_X, GATE_Y), (NEW_X, LANE_Y - NODE_R)]
    )
    junction(ax, KEEP_X, GATE_Y)
    label(ax, UPDATE_X + BOX_W / 2 + 0.1, GATE_Y - 0.45, r"$z_t$")
    wire(ax, [(KEEP_X, GATE_Y), (KEEP_X, 5.2 - NODE_R)])
    ax.add_patch(
        FancyBboxPatch(
            (KEEP_X - 0.3, 5.2 - NODE_R),
            0.6,
            2 * NODE_R,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            facecolor=NODE_COLOR,
            edgecolor=WIRE,
            lw=1.4,
            zorder=3,
        )
    )
    ax.text(KEEP_X, 5.2, r"$1-$", ha="center", va="center", fontsize=12, zorder=4)
    label(ax, KEEP_X + 0.38, 5.3, r"$1 - z_t$", fontsize=12)
    wire(ax, [(KEEP_X, 5.2 + NODE_R), (KEEP_X, STATE_Y - NODE_R)])
    node(ax, KEEP_X, STATE_Y, r"$\times$")
    node(ax, NEW_X, LANE_Y, r"$\times$")
    label(ax, NEW_X + 0.3, LANE_Y - 0.1, r"$z_t \circ \tilde{h}_t$", fontsize=12)
    wire(ax, [(KEEP_X + NODE_R, STATE_Y), (NEW_X - NODE_R, STATE_Y)])
    wire(ax, [(NEW_X, LANE_Y + NODE_R), (NEW_X, STATE_Y - NODE_R)])
    node(ax, NEW_X, STATE_Y, r"$+$")
    wire(ax, [(NEW_X + NODE_R, STATE_Y), (12.2, STATE_Y)])
    label(ax, 12.25, STATE_Y, r"$h_t$", va="center")

    # A fixed hash salt and no date make reruns byte-identical.
    fig.savefig(path, bbox_inches="tight", pad_inches=0.05, metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    plt.rcParams["svg.hashsalt"] = "keras-gru-cell"
    draw(OUTPUT)
    print(f"wrote {OUTPUT}")
