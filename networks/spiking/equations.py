r"""The Brian2 equation strings of every mirror, each written once.

Each function returns a :class:`Group`: the model equations of one ``NeuronGroup`` or ``Synapses`` with its
``threshold`` and ``reset`` (neurons) or ``on_post`` (synapses). The classes only create, connect and fill the
groups: :class:`~networks.spiking.RateMirror` and :class:`~networks.spiking.ContextRateMirror` (graded units),
:class:`~networks.spiking.SpikingGSEMM` (replay) and :class:`~networks.spiking.SpikingLearner` (learning), the
last two through the one builder :func:`networks.spiking.spiking.poisson_wta`.

Brian2 notation: ``x_pre``/``x_post`` is the pre-/postsynaptic neuron's ``x``; ``(summed)`` sums a synaptic
expression into the target neuron's variable; ``(linked)`` reads another group's variable. Constants are
``(shared, constant)`` parameters set before each run, so a standalone build reruns with new values through
``run_args`` without compiling. Times are Brian2 seconds (model units × ``time_unit``).

Groups, graded mirrors | spiking replay and learning:

* features: :func:`dsem_features`, :func:`context_features` | :func:`poisson_features`;
* hidden units / cells: :func:`dsem_hidden`, :func:`context_cells` | :func:`wta_hidden` with its
  :func:`normaliser`;
* features → hidden: :func:`dsem_drive`, :func:`bottom_up` | :func:`xi_synapses` (Ξ, used in both directions);
* hidden → features: :func:`softmax_feedback` | the ``on_post`` of :func:`xi_synapses`;
* hidden → hidden: :func:`context_transitions` | :func:`phi_synapses` (Φ).

>>> g = poisson_features()
>>> g.threshold
'rand() < rate_f*dt'
>>> print(softmax_sum("Z"), end="")
Z_post = ex_pre : 1 (summed)
"""
from __future__ import annotations

from typing import NamedTuple


class Group(NamedTuple):
    """The strings of one Brian2 group: ``model`` equations; ``threshold``, ``reset`` (neurons) and ``on_post``
    (synapses), ``None`` where the group has none.

    >>> Group("Z : 1").reset is None
    True
    """

    model: str
    threshold: str | None = None
    reset: str | None = None
    on_post: str | None = None


def constants(**units: str) -> str:
    """Declarations of shared constant parameters, one ``name : unit (shared, constant)`` line each.

    >>> print(constants(beta="1", T_f="second"), end="")
    beta : 1 (shared, constant)
    T_f : second (shared, constant)
    """
    return "".join(f"{name} : {unit} (shared, constant)\n" for name, unit in units.items())


def poisson(rate: str) -> str:
    r"""Threshold of a Poisson neuron firing at ``rate``: one spike per step with probability
    :math:`\mathrm{rate}\cdot dt`.

    >>> poisson("lam")
    'rand() < lam*dt'
    """
    return f"rand() < {rate}*dt"


def softmax_sum(target: str) -> str:
    r"""The divisive normalisation of a soft winner-take-all, :math:`Z = \sum_μ e_μ`: a synapse model summing the
    presynaptic ``ex`` into the postsynaptic ``target``.

    >>> softmax_sum("Zc")
    'Zc_post = ex_pre : 1 (summed)\n'
    """
    return f"{target}_post = ex_pre : 1 (summed)\n"


# ---------------------------------------------------------------------------------- graded: DSEM (rate.py)
def dsem_features() -> Group:
    r"""DSEM features, graded: :math:`T_f\dot v = \sqrt{α_s}\,U/Z − v`, :math:`T_d\dot s = β_d v − s`, with
    :math:`U_i = \sum_μ Ξ_{iμ}e_μ` and :math:`Z = \sum_μ e_μ` summed in by :func:`softmax_feedback`.

    >>> dsem_features().model.split()[:3]
    ['dv/dt', '=', '(sqrt_as*U/Z']
    """
    return Group("""
        dv/dt = (sqrt_as*U/Z - v)/T_f : 1
        ds/dt = (beta_d*v - s)/T_d : 1
        U : 1
        Z : 1
        """ + constants(sqrt_as="1", beta_d="1", T_f="second", T_d="second"))


def dsem_hidden() -> Group:
    r"""DSEM hidden units, instantaneous: :math:`e_μ = \exp(β(h_μ − h_0))`, :math:`h_μ` summed in by
    :func:`dsem_drive` (the shift :math:`h_0` leaves the softmax unchanged and keeps ``exp`` in range).

    >>> "ex = exp(beta*(h - h0)) : 1" in dsem_hidden().model
    True
    """
    return Group("""
        h : 1
        ex = exp(beta*(h - h0)) : 1
        """ + constants(beta="1", h0="1"))


def dsem_drive() -> Group:
    r"""Feature → hidden synapse (i, μ) of the DSEM:
    :math:`h_μ = \sum_i \sqrt{α_s}Ξ_{iμ}v_i + α_c(ΞΦ)_{iμ}s_i` (weights ``w_v`` = Ξ, ``w_s`` = ΞΦ).

    >>> "h_post = sqrt_as_pre*w_v*v_pre + alpha_c*w_s*s_pre : 1 (summed)" in dsem_drive().model
    True
    """
    return Group("""
        w_v : 1 (constant)
        w_s : 1 (constant)
        h_post = sqrt_as_pre*w_v*v_pre + alpha_c*w_s*s_pre : 1 (summed)
        """ + constants(alpha_c="1"))


def softmax_feedback() -> Group:
    r"""Hidden → feature synapse (μ → i) carrying the soft winner-take-all back: :math:`U_i = \sum_μ w_{μi}e_μ`
    and :math:`Z_i = \sum_μ e_μ`, so that :math:`U_i/Z_i = (w^{\top}\mathrm{softmax})_i`. Used by both graded
    mirrors (w = Ξ for the DSEM, ξ̂ for the context cells).

    >>> print(softmax_feedback().model, end="")
    w : 1 (constant)
    U_post = w*ex_pre : 1 (summed)
    Z_post = ex_pre : 1 (summed)
    """
    return Group("w : 1 (constant)\nU_post = w*ex_pre : 1 (summed)\n" + softmax_sum("Z"))


# ------------------------------------------------------------------------- graded: context (context_rate.py)
def context_features() -> Group:
    r"""Context-GSEMM features: :math:`T_f\dot v = \sqrt{α_s}\,U/Z − v + I\,[t < t_{cue}]` (the cue as input
    until ``t_cue``; U, Z from :func:`softmax_feedback`).

    >>> "I*int(t < t_cue)" in context_features().model
    True
    """
    return Group("""
        dv/dt = (sqrt_as*U/(Z + 1e-300) - v + I*int(t < t_cue))/T_f : 1
        U : 1
        Z : 1
        I : 1
        """ + constants(sqrt_as="1", t_cue="second", T_f="second"))


def context_cells(drive: str) -> Group:
    r"""Context cells: :math:`T_h\dot u_μ = \sqrt{α_s}\,a_μ + c_μ − u_μ`, :math:`e_μ = \exp(β(u_μ − u_0))`,
    trace :math:`T_d\dot d_μ = e_μ/Z − d_μ`; the context term :math:`c_μ = \tfrac1β\log(ε + q_μ)` for
    ``drive="log"``, :math:`γ q_μ` for ``"linear"`` (a, q, Z summed in by :func:`bottom_up` and
    :func:`context_transitions`).

    >>> "log(eps + q)/beta" in context_cells("log").model, "gamma*q" in context_cells("linear").model
    (True, True)
    """
    if drive not in ("log", "linear"):
        raise ValueError(f"drive must be 'log' or 'linear', got {drive!r}")
    ctx = "log(eps + q)/beta" if drive == "log" else "gamma*q"
    return Group(f"""
        du/dt = (sqrt_as*a + {ctx} - u)/T_h : 1
        dd/dt = (ex/(Zc + 1e-300) - d)/T_d : 1
        ex = exp(beta*(u - u0)) : 1
        a : 1
        q : 1
        Zc : 1
        """ + constants(sqrt_as="1", beta="1", gamma="1", eps="1", u0="1", T_h="second", T_d="second"))


def bottom_up() -> Group:
    r"""Feature → cell synapse (i, μ): :math:`a_μ = \sum_i w_{iμ}v_i` (w = ξ̂).

    >>> print(bottom_up().model, end="")
    w : 1 (constant)
    a_post = w*v_pre : 1 (summed)
    """
    return Group("w : 1 (constant)\na_post = w*v_pre : 1 (summed)\n")


def context_transitions() -> Group:
    r"""Cell → cell synapse (ν → μ): the context input :math:`q_μ = \sum_ν Φ_{μν}d_ν` and the normalisation
    :math:`Z = \sum_ν e_ν` of the trace.

    >>> "q_post = phi*d_pre : 1 (summed)" in context_transitions().model
    True
    """
    return Group("phi : 1 (constant)\nq_post = phi*d_pre : 1 (summed)\n" + softmax_sum("Zc"))


# ------------------------------------------------------------------ spiking: replay (spiking.py), learning.py
def poisson_features(*, teacher: bool = False) -> Group:
    r"""Poisson feature neurons, rate :math:`r_f\,\mathrm{clip}((1 + d)/2, 0, 1)`, with a fast trace
    :math:`τ_x\dot x = −x` (+1/(r_f τ_x) per spike, so :math:`E[2x − 1] = d`).

    Replay (``teacher=False``): the drive d is the membrane :math:`T_f\dot u = −u` (kicked by hidden spikes
    through :func:`xi_synapses`), plus the slow trace :math:`T_d\dot y = −y` (the slow population).
    Learning (``teacher=True``): d is the taught item ``teach(t, i)`` (a ``TimedArray`` in the namespace).

    >>> poisson_features(teacher=True).reset
    'x += 1/(r_f*tau_x)'
    """
    drive = "teach(t, i)" if teacher else "u"
    model = f"""
        dx/dt = -x/tau_x : 1
        rate_f = r_f*clip((1 + {drive})/2, 0, 1) : Hz
        """
    reset = "x += 1/(r_f*tau_x)"
    if teacher:
        return Group(model + constants(r_f="Hz", tau_x="second"), poisson("rate_f"), reset)
    model += """
        du/dt = -u/T_f : 1
        dy/dt = -y/T_d : 1
        """
    return Group(model + constants(r_f="Hz", T_f="second", T_d="second", tau_x="second"), poisson("rate_f"),
                 reset + "\ny += 1/(r_f*T_d)")


def _softmax_rate(exponent: str, gate: str = "") -> str:
    """λ = R_h e / Z with e = exp(exponent) and Z (linked) from the :func:`normaliser`."""
    return f"""
        ex = exp({exponent}) : 1
        Z : 1 (linked)
        lam = {gate}R_h*ex/Z : Hz
        """ + constants(R_h="Hz")


def wta_hidden(*, learning: bool = False) -> Group:
    r"""Poisson hidden neurons, a soft winner-take-all: rate :math:`λ_k = g\,R_h\,e^{βa_k}/\sum_l e^{βa_l}`
    (Z summed by the :func:`normaliser`).

    Replay: :math:`a_k = \sqrt{α_s}\,h_k + α_c C_k` with :math:`h_k = \sum_i Ξ_{ik}\hat v_i`, :math:`C_k =
    \sum_l φ_{lk}q_l`, :math:`q_l = \sum_i Ξ_{il}\hat s_i` (summed by :func:`xi_synapses`, :func:`phi_synapses`),
    shifted by h_0; g = 1. Learning (novelty recruitment): :math:`a_k = c_k\,h_k/(‖Ξ_k‖‖\hat v‖) +
    (1 − c_k)(θ − δk) − 1` with β = β_L, g = ``gate(t)``; a spike commits the unit (c ← 1) and kicks the
    delayed trace :math:`T_d\dot y^d = −y^d` and the fast trace :math:`τ_{fast}\dot y^f = −y^f` (+1/(R_h τ)
    each).

    >>> wta_hidden().threshold, wta_hidden(learning=True).reset.splitlines()[0]
    ('rand() < lam*dt', 'c = 1')
    """
    if not learning:
        return Group("""
            hv : 1
            q : 1
            C : 1
            hin = sqrt_as*hv + alpha_c*C : 1
            """ + _softmax_rate("beta*(hin - h0)") + constants(sqrt_as="1", alpha_c="1", beta="1", h0="1"),
            poisson("lam"))
    return Group("""
        hv : 1
        wn : 1
        vn : 1
        c : 1
        rank : 1 (constant)
        dys/dt = -ys/T_d : 1
        dyf/dt = -yf/tau_fast : 1
        match = hv/sqrt(wn*vn + 1e-9) : 1
        score = c*match + (1 - c)*(theta - delta*rank) : 1
        """ + _softmax_rate("beta_l*(score - 1)", gate="gate(t)*")
        + constants(theta="1", delta="1", beta_l="1", T_d="second", tau_fast="second"),
        poisson("lam"), "c = 1\nys += 1/(R_h*T_d)\nyf += 1/(R_h*tau_fast)")


def normaliser() -> tuple[Group, Group]:
    r"""The normalising unit of each block, :math:`Z = \sum_k e_k`, and the hidden → normaliser synapse that sums
    it (the hidden neurons read Z back as a linked variable).

    >>> unit, syn = normaliser(); unit.model, syn.model
    ('Z : 1', 'Z_post = ex_pre : 1 (summed)\n')
    """
    return Group("Z : 1"), Group(softmax_sum("Z"))


def xi_synapses(*, learning: bool = False) -> Group:
    r"""Ξ: one synapse per (feature i, hidden neuron k), weight w, summing :math:`h_k = \sum_i w\,\hat v_i`
    (:math:`\hat v = 2x − 1`).

    Replay: also :math:`q_k = \sum_i w\,β_d(2y_i − 1)`, and each hidden spike kicks the feature membrane by the
    same weight, :math:`Δu_i = \sqrt{α_s}\,w/(R_h T_f)` (the symmetric energy), so that :math:`E[u] = v`.
    Learning: also :math:`‖Ξ_k‖^2` and :math:`‖\hat v‖^2`, and the gated instar on each hidden spike,
    :math:`Δw = g(t)\,η_k(\mathrm{clip}(\hat v_i, −1, 1) − w)`, η_k = 1 on a free unit's recruiting spike, η_ξ
    once committed.

    >>> xi_synapses().on_post
    'u_pre += sqrt_as_f*w/(R_h_post*T_f_pre)'
    """
    model = """
        w : 1
        hv_post = w*(2*x_pre - 1) : 1 (summed)
        """
    if not learning:
        return Group(model + """
            q_post = w*beta_d*(2*y_pre - 1) : 1 (summed)
            """ + constants(beta_d="1", sqrt_as_f="1"), on_post="u_pre += sqrt_as_f*w/(R_h_post*T_f_pre)")
    return Group(model + """
        wn_post = w*w : 1 (summed)
        vn_post = (2*x_pre - 1)**2 : 1 (summed)
        """ + constants(eta_xi="1"),
        on_post="w += gate(t)*(eta_xi + (1 - eta_xi)*(1 - c_post))*(clip(2*x_pre - 1, -1, 1) - w)")


def phi_synapses(*, learning: bool = False) -> Group:
    r"""Φ between hidden neurons l → k.

    Replay: :math:`C_k = \sum_l φ_{lk}\,q_l` (φ = Φ/M between memory copies). Learning (STDP-like, on each
    postsynaptic spike): :math:`Δφ = p\,η_φ\,g(t)(\min(G(y^d_l − y^f_l), 1) − φ)`, φ clipped to [0, 1];
    p = 0 keeps an entry fixed (the diagonal unless ``self_phi``).

    >>> print(phi_synapses().model.split("\n")[1].strip())
    C_post = phi*q_pre : 1 (summed)
    """
    if not learning:
        return Group("phi : 1\nC_post = phi*q_pre : 1 (summed)\n")
    return Group("phi : 1\nplastic : 1 (constant)\n" + constants(eta_phi="1", phi_gain="1"),
                 on_post="phi = clip(phi + plastic*eta_phi*gate(t)*(clip(phi_gain*(ys_pre - yf_pre), -inf, 1) - phi), "
                         "0, 1)")
