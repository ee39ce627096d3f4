"""Scene: shared objects (`Arc<T>`) held by Python and Rust; objects as `&T`, `&mut T`.

Shared objects that Python and Rust hold at once — a sprite keeps its
parent scene, a layer returns the same sprites to every caller — and
objects passed as parameters (`&T`, `&mut T`). (No seed program: the
ownership shapes of an ordinary Rust object graph.)
"""
import gc

from _common import expected, ffi_export, library, show

lib = library()

# Both sprites hold an `Arc` of the scene Python made: one Rust value.
scene = lib.Scene("level 1")
hero = lib.Sprite("hero", scene, 1.0, 2.0)
coin = lib.Sprite("coin", scene, 5.0, 0.0)
print("same parent:", hero.parent() == scene == coin.parent())
scene.move_to(10.0, 10.0)
print("hero at:", hero.world())

# The layer hands out the same sprites to every caller: equal objects.
layer = lib.Layer()
layer.add(hero)
layer.add(coin)
first, second = layer.sprites(), layer.sprites()
print("same sprites twice:", first == second, [sprite.name() for sprite in first])

# Objects as parameters: borrowed for the call, `&mut` checked for aliasing.
canvas, other = lib.Canvas(), lib.Canvas()
canvas.draw(hero)
other.draw(coin)
show(canvas.merge(other))
show(canvas.lines())
with expected(ffi_export.InvalidArgument):
    canvas.merge(canvas)
with expected(TypeError):
    canvas.draw(scene)

# Freed with its last holder: Python lets go of the scene, the sprites keep
# it; once the layer and the sprites go, so does the scene.
del scene, first, second
gc.collect()
print("scenes alive with the sprites kept:", lib.Scene.live())
del hero, coin, layer
gc.collect()
print("scenes alive once they are gone:", lib.Scene.live())
