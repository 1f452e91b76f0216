// torchvision's ResNet initialisation, shared by the CIFAR and ImageNet layouts.
import { BatchNorm2d, Conv2d, init, type AnyModule } from '../nn/index.js';

/** Kaiming-normal (fan_out, ReLU) convs, BN γ = 1 and β = 0; Linear keeps PyTorch's default. */
export function initResNetWeights(model: AnyModule): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) init.kaimingNormal_(m.param('weight'), { mode: 'fan_out', nonlinearity: 'relu' });
    else if (m instanceof BatchNorm2d) { init.ones_(m.param('weight')); init.zeros_(m.param('bias')); }
  }
}
