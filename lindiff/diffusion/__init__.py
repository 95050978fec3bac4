"""Denoisers, samplers and the closed-form spectral transfer function (Benita et al.).

Framework-free (numpy; torch only where a schedule is designed by autograd):

* :mod:`lindiff.diffusion.schedules` — the samplers' noise levels (VP linear-β, cosine, Karras);
* :mod:`lindiff.diffusion.denoisers` — ``D(Y, sigma)``: projection, Wiener, empirical;
* :mod:`lindiff.diffusion.local` — local analytic denoisers on images: LS, ELS, locality;
* :mod:`lindiff.diffusion.samplers` — ve_chain, DDPM, DDIM(η), probability-flow ODE (Euler/Heun);
* :mod:`lindiff.diffusion.transfer` — per-component gain ``H_i`` and generated variance ``v_i``;
* :mod:`lindiff.diffusion.design` — a schedule designed from the data's spectrum.
"""
