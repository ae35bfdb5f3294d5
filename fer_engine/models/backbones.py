"""The `BACKBONES` registry: every backbone a run can name, with its metadata."""
from __future__ import annotations

from functools import partial

from ..registry import Registry
from .fer_cnn import FerCNN
from .spec import BackboneSpec
from .timm_backbones import build_resnet18_48, timm_features

BACKBONES: Registry[BackboneSpec] = Registry("backbone")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _fer_cnn(in_chans: int, input_size: int, pretrained_file: str | None, **kwargs) -> FerCNN:
    return FerCNN(in_chans=in_chans, **kwargs)


def _add(spec: BackboneSpec) -> None:
    BACKBONES.register(spec.name, spec)


def _fer(name: str, title: str, notes: str, **arch) -> None:
    """A FerCNN variant for 48x48 grayscale faces; `arch` sets its FerCNN arguments."""
    _add(BackboneSpec(
        name=name, title=title, family="fer", default_input_size=48, channels=1, mean=None, std=None,
        cam_layer="backbone.features.block4.act", build=partial(_fer_cnn, **arch),
        notes=notes,
    ))


def _timm(name: str, title: str, cam_layer: str, size: int = 224, reshape: str | None = None,
          mean=IMAGENET_MEAN, std=IMAGENET_STD, notes: str = "") -> None:
    _add(BackboneSpec(
        name=name, title=title, family="timm", default_input_size=size, channels=3,
        mean=mean, std=std, cam_layer=cam_layer, reshape=reshape, timm_name=name,
        build=timm_features(name, img_size_kwarg=reshape is not None),
        notes=notes or "ImageNet architecture; faces are upsampled to the input size.",
    ))


_fer("fer_cnn", "FER CNN (VGG-style, 48x48)",
     "The course-report CNN: 4 conv blocks (BN, ReLU, max-pool, dropout) + 3 FC layers; "
     "trained from scratch on 48x48 grayscale faces.")
_fer("fer_cnn_small", "FER CNN small (half width, for CPU)",
     "The course-report CNN at half width (32-64-256-256) with lighter conv dropout: "
     "about 3x the training speed of fer_cnn; the default on CPUs that compute bfloat16, where "
     "the quick-cpu preset's 15-minute budget reaches 66.6% FER2013 PrivateTest on 2 cores.",
     channels=(32, 64, 256, 256), conv_dropout=0.1)
_fer("fer_cnn_lite", "FER CNN lite (3x3 convs, for float32 CPUs)",
     "fer_cnn_small with 3x3 kernels only and a narrower third block (32-64-128-256): "
     "about half its arithmetic, 1.5x its training speed on an AVX2 CPU in float32. The "
     "default on float32-only CPUs: quick-cpu's 15 minutes reach 62-63% FER2013 PrivateTest "
     "on 2 AVX2 cores (fer_cnn_small: 60.6%).",
     channels=(32, 64, 128, 256), kernels=(3, 3, 3, 3), conv_dropout=0.1)
_fer("fer_cnn_tiny", "FER CNN tiny (tests, smoke runs)",
     "The FER CNN with very few channels: trains in about a second; for tests and demos.",
     channels=(8, 16, 16, 16), fc_dims=(32, 32))
_add(BackboneSpec(
    name="resnet18_48", title="ResNet18 for 48x48 (3x3 stem, no max-pool)", family="fer",
    default_input_size=48, channels=1, mean=IMAGENET_MEAN, std=IMAGENET_STD,
    cam_layer="backbone.layer4", build=build_resnet18_48, timm_name="resnet18",
    notes="ResNet18 keeping full resolution in the stem so layer4 sees 6x6 on 48x48 faces; "
          "pretrained=True loads ImageNet weights into the body (the new stem starts random).",
))
_timm("resnet18", "ResNet18", "backbone.layer4")
_timm("resnet34", "ResNet34", "backbone.layer4")
_timm("resnet50", "ResNet50", "backbone.layer4")
_timm("resnest50d", "ResNeSt50d (split attention)", "backbone.layer4")
_timm("seresnext50_32x4d", "SE-ResNeXt50 32x4d", "backbone.layer4")
_timm("tf_efficientnetv2_b0", "EfficientNetV2-B0", "backbone.bn2", size=192)
_timm("efficientnetv2_rw_s", "EfficientNetV2-S (timm)", "backbone.bn2", size=288)
_timm("convnext_nano", "ConvNeXt nano", "backbone.stages.3")
_timm("convnext_tiny", "ConvNeXt tiny", "backbone.stages.3")
_timm("swin_tiny_patch4_window7_224", "Swin-T (window 7)", "backbone.norm", reshape="swin",
      notes="Swin transformer built at the run's input size (a multiple of 32; windows shrink "
            "to fit small feature maps). Grad-CAM reads the final norm (NHWC).")
_timm("vit_tiny_patch16_224", "ViT-Tiny/16", "backbone.blocks.11.norm1", reshape="vit",
      mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
      notes="Vision transformer built at the run's input size (a multiple of 16); Grad-CAM "
            "reads the last block's norm1, the class token's input.")


DEFAULT_REASONS = {  # why `default_backbone` picked each name, for the lines that say so
    "fer_cnn": "on a GPU: the full FER CNN",
    "fer_cnn_small": "no GPU, a CPU that computes bfloat16: the half-width FER CNN, about 3x faster "
                     "than fer_cnn there",
    "fer_cnn_lite": "no GPU, a float32-only CPU: the FER CNN with 3x3 convs at half width, about 1.5x "
                    "fer_cnn_small's speed there",
}


def default_backbone(device: str = "auto", amp: bool = True) -> str:
    """The backbone of a run that names none, sized for the machine that trains it: the full FER
    CNN on a GPU; on a CPU that computes bfloat16 natively (and trains with `amp`) the half-width
    fer_cnn_small; on a float32-only CPU (AVX2) fer_cnn_lite, about half its arithmetic. On the
    quick-cpu budget each choice reached the best FER2013 accuracy measured for its machine."""
    import torch

    from ..utils.machine import cpu_has_native_bf16

    if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()):
        return "fer_cnn"
    return "fer_cnn_small" if amp and cpu_has_native_bf16() else "fer_cnn_lite"
